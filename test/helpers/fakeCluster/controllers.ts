import type {
  V1Deployment,
  V1DeploymentCondition,
  V1DeploymentStatus,
  V1Job,
  V1JobCondition,
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import type { Behaviours, KubeletTiming } from './behaviour.ts';
import { type PodView, podView } from './kubelet.ts';
import { wire } from './patch.ts';
import type { Collections } from './store.ts';

const revisionAnnotation = 'deployment.kubernetes.io/revision';

/** A short, stable hash of a value (keys sorted), like the pod-template-hash label. */
function stableHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  let hash = 0x811c9dc5;
  for (const char of JSON.stringify(canonical(value))) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0').slice(-10);
}

export const ownedBy = (meta: V1ObjectMeta | undefined, uid: string | undefined): boolean =>
  uid !== undefined && (meta?.ownerReferences ?? []).some((o) => o.uid === uid);

const ownerReference = (kind: string, owner: { metadata?: V1ObjectMeta }): V1OwnerReference => ({
  apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1',
  kind,
  name: owner.metadata?.name ?? '',
  uid: owner.metadata?.uid ?? '',
  controller: true,
  blockOwnerDeletion: true,
});

/** Resolves maxSurge / maxUnavailable (a count or a percentage of `replicas`). */
function resolveIntOrPercent(value: number | string | undefined, replicas: number, roundUp: boolean): number {
  const raw = value ?? '25%';
  if (typeof raw === 'number') return raw;
  const percent = Number(raw.replace('%', '')) / 100;
  return roundUp ? Math.ceil(percent * replicas) : Math.floor(percent * replicas);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The environment the controllers act in: the store, the time, how pods behave, how to name things. */
export interface ControllerContext {
  readonly store: Collections;
  readonly behaviours: Behaviours;
  readonly timing: KubeletTiming;
  /** A fresh, stable suffix for generated names and uids. */
  nextId(): string;
  /** When pods created now count as created (seeded objects are created long ago). */
  creationTime(now: number): number;
}

/** Which Deployment a pod belongs to (through its ReplicaSet), for per-Deployment image behaviour. */
function deploymentOf(context: ControllerContext, pod: V1Pod): string | undefined {
  const rsName = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  if (rsName === undefined) return pod.metadata?.ownerReferences?.find((o) => o.kind === 'Job')?.name;
  const rs = context.store.replicasets.get(pod.metadata?.namespace, rsName);
  return rs?.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment')?.name;
}

/** The fake kubelet: writes each pod's status as its images' behaviour says; removes terminated pods. */
export class Kubelet {
  readonly #context: ControllerContext;

  constructor(context: ControllerContext) {
    this.#context = context;
  }

  view(pod: V1Pod, now: number): PodView {
    return podView(
      pod,
      deploymentOf(this.#context, pod),
      this.#context.behaviours,
      this.#context.timing,
      now,
    );
  }

  owner(pod: V1Pod): string | undefined {
    return deploymentOf(this.#context, pod);
  }

  reconcile(now: number): boolean {
    let changed = false;
    const pods = this.#context.store.pods;
    for (const pod of pods.all()) {
      const deletedAt = pod.metadata?.deletionTimestamp;
      if (
        deletedAt !== undefined &&
        new Date(deletedAt).getTime() + this.#context.timing.terminationMs <= now
      ) {
        pods.delete(pod.metadata?.namespace, pod.metadata?.name ?? '');
        changed = true;
        continue;
      }
      const status = wire(this.view(pod, now).status);
      if (!same(status, pod.status)) {
        pods.put({ ...pod, status });
        changed = true;
      }
    }
    return changed;
  }

  nextChange(now: number): number | undefined {
    const times = this.#context.store.pods.all().flatMap((pod) => {
      const deletedAt = pod.metadata?.deletionTimestamp;
      if (deletedAt !== undefined)
        return [new Date(deletedAt).getTime() + this.#context.timing.terminationMs];
      const at = this.view(pod, now).changesAt;
      return at === undefined ? [] : [at];
    });
    return times.length === 0 ? undefined : Math.min(...times);
  }
}

const isTerminating = (pod: V1Pod): boolean => pod.metadata?.deletionTimestamp !== undefined;

/** The ReplicaSet controller: keeps `spec.replicas` pods per ReplicaSet, and its status. */
export class ReplicaSetController {
  readonly #context: ControllerContext;
  readonly #kubelet: Kubelet;

  constructor(context: ControllerContext, kubelet: Kubelet) {
    this.#context = context;
    this.#kubelet = kubelet;
  }

  /** Pods of a ReplicaSet that are not being deleted. */
  activePods(rs: V1ReplicaSet): V1Pod[] {
    return this.#context.store.pods
      .all()
      .filter((p) => ownedBy(p.metadata, rs.metadata?.uid) && !isTerminating(p));
  }

  /** Ready for minReadySeconds. */
  available(pod: V1Pod, minReadySeconds: number, now: number): boolean {
    const since = this.#kubelet.view(pod, now).readySince;
    return since !== undefined && since + minReadySeconds * 1000 <= now;
  }

  reconcile(now: number): boolean {
    let changed = false;
    for (const rs of this.#context.store.replicasets.all()) {
      changed = this.#scale(rs, now) || changed;
      changed = this.#writeStatus(rs, now) || changed;
    }
    return changed;
  }

  /** When a Ready pod will have been Ready for minReadySeconds (the next availability change). */
  nextChange(now: number): number | undefined {
    const times = this.#context.store.replicasets.all().flatMap((rs) => {
      const minReady = (rs.spec?.minReadySeconds ?? 0) * 1000;
      return this.activePods(rs).flatMap((pod) => {
        const since = this.#kubelet.view(pod, now).readySince;
        return since !== undefined && since + minReady > now ? [since + minReady] : [];
      });
    });
    return times.length === 0 ? undefined : Math.min(...times);
  }

  #scale(rs: V1ReplicaSet, now: number): boolean {
    const pods = this.activePods(rs);
    const want = rs.spec?.replicas ?? 0;
    for (let i = pods.length; i < want; i++) this.#createPod(rs, now);
    if (pods.length <= want) return pods.length < want;
    // Unready pods go first, then the youngest, as the real controller ranks them.
    const victims = [...pods]
      .sort((a, b) => {
        const ready = Number(this.#kubelet.view(a, now).ready) - Number(this.#kubelet.view(b, now).ready);
        if (ready !== 0) return ready;
        return (b.metadata?.name ?? '') < (a.metadata?.name ?? '') ? -1 : 1;
      })
      .slice(0, pods.length - want);
    for (const pod of victims) {
      this.#context.store.pods.put({
        ...pod,
        metadata: { ...pod.metadata, deletionTimestamp: new Date(now) },
      });
    }
    return true;
  }

  #createPod(rs: V1ReplicaSet, now: number): void {
    const template = rs.spec?.template;
    const id = this.#context.nextId();
    this.#context.store.pods.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...template?.metadata,
        name: `${rs.metadata?.name}-${id.slice(-5)}`,
        namespace: rs.metadata?.namespace,
        uid: `pod-${id}`,
        creationTimestamp: new Date(this.#context.creationTime(now)),
        labels: { ...template?.metadata?.labels },
        ownerReferences: [ownerReference('ReplicaSet', rs)],
      },
      spec: { ...wire(template?.spec ?? { containers: [] }), nodeName: 'fake-node-a' },
      status: { phase: 'Pending' },
    });
  }

  #writeStatus(rs: V1ReplicaSet, now: number): boolean {
    const pods = this.activePods(rs);
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const status = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      readyReplicas: pods.filter((p) => this.#kubelet.view(p, now).ready).length,
      availableReplicas: pods.filter((p) => this.available(p, minReady, now)).length,
      observedGeneration: rs.metadata?.generation ?? 1,
    };
    if (same(status, rs.status)) return false;
    this.#context.store.replicasets.put({ ...rs, status });
    return true;
  }
}

interface RolloutCounts {
  readonly desired: number;
  readonly surge: number;
  readonly unavailable: number;
}

/** The Deployment controller: ReplicaSets per template, a rolling update within maxSurge/maxUnavailable, status. */
export class DeploymentController {
  readonly #context: ControllerContext;
  readonly #replicaSets: ReplicaSetController;
  /** When each Deployment (by uid) last made progress, and what that progress looked like. */
  readonly #progress = new Map<string, { at: number; signature: string }>();

  constructor(context: ControllerContext, replicaSets: ReplicaSetController) {
    this.#context = context;
    this.#replicaSets = replicaSets;
  }

  reconcile(now: number): boolean {
    let changed = false;
    for (const deployment of this.#context.store.deployments.all()) {
      const newRs = this.#newReplicaSet(deployment);
      changed = newRs.changed || changed;
      changed = this.#roll(deployment, newRs.rs, now) || changed;
      changed = this.#writeStatus(deployment, newRs.rs, now) || changed;
    }
    return changed;
  }

  /** When a stalled rollout's progress deadline passes. */
  nextChange(): number | undefined {
    const times = this.#context.store.deployments.all().flatMap((d) => {
      const progress = this.#progress.get(d.metadata?.uid ?? '');
      const deadline = (d.spec?.progressDeadlineSeconds ?? 600) * 1000;
      return progress === undefined || this.#complete(d) ? [] : [progress.at + deadline];
    });
    return times.length === 0 ? undefined : Math.min(...times);
  }

  #owned(deployment: V1Deployment): V1ReplicaSet[] {
    return this.#context.store.replicasets
      .all()
      .filter((rs) => ownedBy(rs.metadata, deployment.metadata?.uid));
  }

  /** The ReplicaSet of the current template: created (revision max+1), or re-revisioned on a rollback. */
  #newReplicaSet(deployment: V1Deployment): { rs: V1ReplicaSet; changed: boolean } {
    const { store } = this.#context;
    const hash = stableHash(deployment.spec?.template);
    const owned = this.#owned(deployment);
    const maxRevision = Math.max(
      0,
      ...owned.map((rs) => Number(rs.metadata?.annotations?.[revisionAnnotation] ?? 0)),
    );
    const existing = owned.find((rs) => rs.metadata?.labels?.['pod-template-hash'] === hash);
    let rs = existing;
    let changed = false;
    if (rs === undefined) {
      rs = store.replicasets.put(this.#replicaSetFor(deployment, hash, maxRevision + 1));
      changed = true;
    } else if (Number(rs.metadata?.annotations?.[revisionAnnotation] ?? 0) < maxRevision) {
      rs = store.replicasets.put({
        ...rs,
        metadata: {
          ...rs.metadata,
          annotations: { ...rs.metadata?.annotations, [revisionAnnotation]: String(maxRevision + 1) },
        },
      });
      changed = true;
    }
    const revision = rs.metadata?.annotations?.[revisionAnnotation];
    if (deployment.metadata?.annotations?.[revisionAnnotation] !== revision && revision !== undefined) {
      store.deployments.put({
        ...deployment,
        metadata: {
          ...deployment.metadata,
          annotations: { ...deployment.metadata?.annotations, [revisionAnnotation]: revision },
        },
      });
      changed = true;
    }
    return { rs, changed };
  }

  #replicaSetFor(deployment: V1Deployment, hash: string, revision: number): V1ReplicaSet {
    const template = wire(deployment.spec?.template ?? {});
    const labels = { ...template.metadata?.labels, 'pod-template-hash': hash };
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${deployment.metadata?.name}-${hash}`,
        namespace: deployment.metadata?.namespace,
        uid: `rs-${this.#context.nextId()}`,
        generation: 1,
        labels,
        annotations: { [revisionAnnotation]: String(revision) },
        ownerReferences: [ownerReference('Deployment', deployment)],
      },
      spec: {
        replicas: 0,
        minReadySeconds: deployment.spec?.minReadySeconds ?? 0,
        selector: { matchLabels: { ...deployment.spec?.selector.matchLabels, 'pod-template-hash': hash } },
        template: { ...template, metadata: { ...template.metadata, labels } },
      },
    };
  }

  #counts(deployment: V1Deployment): RolloutCounts {
    const desired = deployment.spec?.replicas ?? 1;
    const rolling = deployment.spec?.strategy?.rollingUpdate;
    const surge = resolveIntOrPercent(rolling?.maxSurge, desired, true);
    const unavailable = resolveIntOrPercent(rolling?.maxUnavailable, desired, false);
    return { desired, surge, unavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
  }

  #setReplicas(rs: V1ReplicaSet, replicas: number): void {
    if ((rs.spec?.replicas ?? 0) === replicas) return;
    const current =
      this.#context.store.replicasets.get(rs.metadata?.namespace, rs.metadata?.name ?? '') ?? rs;
    this.#context.store.replicasets.put({
      ...current,
      metadata: { ...current.metadata, generation: (current.metadata?.generation ?? 1) + 1 },
      spec: { selector: current.spec?.selector ?? {}, ...current.spec, replicas },
    });
  }

  #availableOf(rs: V1ReplicaSet, now: number): number {
    const minReady = rs.spec?.minReadySeconds ?? 0;
    return this.#replicaSets.activePods(rs).filter((p) => this.#replicaSets.available(p, minReady, now))
      .length;
  }

  /** One step of a rolling update (the real controller's reconcileNewReplicaSet / reconcileOldReplicaSets). */
  #roll(deployment: V1Deployment, newRs: V1ReplicaSet, now: number): boolean {
    const { desired, surge, unavailable } = this.#counts(deployment);
    const owned = this.#owned(deployment);
    const old = owned.filter((rs) => rs.metadata?.uid !== newRs.metadata?.uid);
    const newReplicas = newRs.spec?.replicas ?? 0;
    const total = owned.reduce((sum, rs) => sum + (rs.spec?.replicas ?? 0), 0);
    let changed = false;
    if (newReplicas > desired) {
      this.#setReplicas(newRs, desired);
      changed = true;
    } else if (newReplicas < desired && desired + surge - total > 0) {
      this.#setReplicas(newRs, Math.min(desired, newReplicas + desired + surge - total));
      changed = true;
    }
    const minAvailable = desired - unavailable;
    const newUnavailable = Math.max(0, (newRs.spec?.replicas ?? 0) - this.#availableOf(newRs, now));
    let budget = total - minAvailable - newUnavailable;
    // Old pods that are not available go first: removing them costs no availability.
    for (const rs of old) {
      if (budget <= 0) break;
      const unhealthy = Math.min(budget, Math.max(0, (rs.spec?.replicas ?? 0) - this.#availableOf(rs, now)));
      if (unhealthy > 0) {
        this.#setReplicas(rs, (rs.spec?.replicas ?? 0) - unhealthy);
        budget -= unhealthy;
        changed = true;
      }
    }
    const refreshed = this.#owned(deployment);
    const availableNow = refreshed.reduce((sum, rs) => sum + this.#availableOf(rs, now), 0);
    let scaleDown = availableNow - minAvailable;
    for (const rs of refreshed.filter((r) => r.metadata?.uid !== newRs.metadata?.uid)) {
      if (scaleDown <= 0) break;
      const by = Math.min(scaleDown, rs.spec?.replicas ?? 0);
      if (by > 0) {
        this.#setReplicas(rs, (rs.spec?.replicas ?? 0) - by);
        scaleDown -= by;
        changed = true;
      }
    }
    return changed;
  }

  #complete(deployment: V1Deployment): boolean {
    const s = deployment.status;
    const desired = deployment.spec?.replicas ?? 1;
    return (
      (s?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1) &&
      (s?.updatedReplicas ?? 0) === desired &&
      (s?.replicas ?? 0) === desired &&
      (s?.availableReplicas ?? 0) === desired
    );
  }

  #writeStatus(deployment: V1Deployment, newRs: V1ReplicaSet, now: number): boolean {
    const current =
      this.#context.store.deployments.get(deployment.metadata?.namespace, deployment.metadata?.name ?? '') ??
      deployment;
    const { desired, unavailable } = this.#counts(current);
    const owned = this.#owned(current);
    const fresh = owned.find((rs) => rs.metadata?.uid === newRs.metadata?.uid) ?? newRs;
    const active = (rs: V1ReplicaSet) => this.#replicaSets.activePods(rs);
    const ready = owned.reduce(
      (n, rs) => n + active(rs).filter((p) => this.#replicaSets.available(p, 0, now)).length,
      0,
    );
    const available = owned.reduce((n, rs) => n + this.#availableOf(rs, now), 0);
    const replicas = owned.reduce((n, rs) => n + active(rs).length, 0);
    const updated = active(fresh).length;
    const status: V1DeploymentStatus = {
      observedGeneration: current.metadata?.generation ?? 1,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
      conditions: [],
    };
    status.conditions = this.#conditions(current, status, fresh, desired - unavailable, now);
    if (same(wire(status), current.status)) return false;
    this.#context.store.deployments.put({ ...current, status });
    return true;
  }

  #conditions(
    deployment: V1Deployment,
    status: V1DeploymentStatus,
    newRs: V1ReplicaSet,
    minAvailable: number,
    now: number,
  ): V1DeploymentCondition[] {
    const uid = deployment.metadata?.uid ?? '';
    const signature = JSON.stringify([
      newRs.metadata?.name,
      status.updatedReplicas,
      status.availableReplicas,
      status.replicas,
    ]);
    const progress = this.#progress.get(uid);
    if (progress?.signature !== signature) this.#progress.set(uid, { at: now, signature });
    const since = this.#progress.get(uid)?.at ?? now;
    const rsName = newRs.metadata?.name ?? '';
    const desired = deployment.spec?.replicas ?? 1;
    const complete =
      status.updatedReplicas === desired &&
      status.replicas === desired &&
      status.availableReplicas === desired;
    const deadlinePassed = now - since >= (deployment.spec?.progressDeadlineSeconds ?? 600) * 1000;
    const progressing: V1DeploymentCondition = complete
      ? {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${rsName}" has successfully progressed.`,
        }
      : deadlinePassed
        ? {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: `ReplicaSet "${rsName}" has timed out progressing.`,
          }
        : {
            type: 'Progressing',
            status: 'True',
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${rsName}" is progressing.`,
          };
    return [
      {
        type: 'Available',
        status: (status.availableReplicas ?? 0) >= minAvailable ? 'True' : 'False',
        reason: 'MinimumReplicasAvailable',
      },
      progressing,
    ];
  }
}

const jobCondition = (type: string, reason: string, message: string, now: number): V1JobCondition => ({
  type,
  status: 'True',
  reason,
  message,
  lastTransitionTime: new Date(now),
});

/** The Job controller: one pod at a time until one succeeds, backoffLimit failures, or the active deadline. */
export class JobController {
  readonly #context: ControllerContext;

  constructor(context: ControllerContext) {
    this.#context = context;
  }

  reconcile(now: number): boolean {
    let changed = false;
    for (const job of this.#context.store.jobs.all()) {
      if (this.#finished(job)) continue;
      changed = this.#step(job, now) || changed;
    }
    return changed;
  }

  nextChange(): number | undefined {
    const times = this.#context.store.jobs.all().flatMap((job) => {
      const deadline = job.spec?.activeDeadlineSeconds;
      const start = job.status?.startTime;
      return deadline === undefined || start === undefined || this.#finished(job)
        ? []
        : [new Date(start).getTime() + deadline * 1000];
    });
    return times.length === 0 ? undefined : Math.min(...times);
  }

  #finished(job: V1Job): boolean {
    return (job.status?.conditions ?? []).some(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
  }

  #pods(job: V1Job): V1Pod[] {
    return this.#context.store.pods.all().filter((p) => ownedBy(p.metadata, job.metadata?.uid));
  }

  #step(job: V1Job, now: number): boolean {
    const pods = this.#pods(job);
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
    const failed = pods.filter((p) => p.status?.phase === 'Failed').length;
    const active = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
    const startTime = job.status?.startTime ?? new Date(now);
    const started = new Date(startTime).getTime();
    const deadline = job.spec?.activeDeadlineSeconds;
    const conditions =
      succeeded > 0
        ? [
            jobCondition(
              'SuccessCriteriaMet',
              'CompletionsReached',
              'Reached expected number of succeeded pods',
              now,
            ),
            jobCondition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now),
          ]
        : failed > (job.spec?.backoffLimit ?? 6)
          ? [
              jobCondition(
                'FailureTarget',
                'BackoffLimitExceeded',
                'Job has reached the specified backoff limit',
                now,
              ),
              jobCondition(
                'Failed',
                'BackoffLimitExceeded',
                'Job has reached the specified backoff limit',
                now,
              ),
            ]
          : deadline !== undefined && now - started >= deadline * 1000
            ? [
                jobCondition(
                  'Failed',
                  'DeadlineExceeded',
                  'Job was active longer than specified deadline',
                  now,
                ),
              ]
            : undefined;
    if (conditions === undefined && active === 0) this.#createPod(job, now);
    const status = {
      startTime,
      active: conditions === undefined ? Math.max(active, 1) : 0,
      succeeded,
      failed,
      ...(conditions === undefined ? {} : { conditions, completionTime: new Date(now) }),
    };
    if (same(wire(status), job.status)) return false;
    this.#context.store.jobs.put({ ...job, status });
    return true;
  }

  #createPod(job: V1Job, now: number): void {
    const template = wire(job.spec?.template ?? { spec: { containers: [] } });
    const id = this.#context.nextId();
    const name = job.metadata?.name ?? '';
    this.#context.store.pods.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...template.metadata,
        name: `${name}-${id.slice(-5)}`,
        namespace: job.metadata?.namespace,
        uid: `pod-${id}`,
        creationTimestamp: new Date(this.#context.creationTime(now)),
        labels: {
          ...template.metadata?.labels,
          'job-name': name,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': job.metadata?.uid ?? '',
        },
        ownerReferences: [ownerReference('Job', job)],
      },
      spec: {
        restartPolicy: 'Never',
        ...template.spec,
        containers: template.spec?.containers ?? [],
        nodeName: 'fake-node-a',
      },
      status: { phase: 'Pending' },
    });
  }
}

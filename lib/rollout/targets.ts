import { PatchStrategy, setHeaderOptions, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { callK8s } from '../k8s/call.ts';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { ConflictError, type K8sOperation } from '../k8s/errors.ts';
import type { TargetRef } from './continuationToken.ts';

/** Annotations the rollout writes on its targets (Deployments and CronJobs). */
export const rolloutAnnotations = {
  /** JSON `{ release, template }`: the pod template before this release, what rollback restores. */
  recorded: 'rollout.m2-eks-pipeline.io/recorded-template',
  /** Release whose image the template runs (`<release>-rolled-back` after a rollback). */
  release: 'rollout.m2-eks-pipeline.io/release',
  changeCause: 'kubernetes.io/change-cause',
} as const;

/** A target as read: its pod template, annotations and resourceVersion. */
export interface TargetSnapshot {
  readonly ref: TargetRef;
  readonly resourceVersion: string;
  readonly template: V1PodTemplateSpec;
  readonly annotations: Readonly<Record<string, string>>;
  readonly hasAnnotations: boolean;
}

/** A recorded template, as stored in the annotation. */
export interface RecordedTemplate {
  readonly release: string;
  readonly template: V1PodTemplateSpec;
}

const resourceOf = (ref: TargetRef): string =>
  ref.kind === 'Deployment' ? 'deployments.apps' : 'cronjobs.batch';
const templatePath = (ref: TargetRef): string =>
  ref.kind === 'Deployment' ? '/spec/template' : '/spec/jobTemplate/spec/template';
const op = (verb: string, namespace: string, ref: TargetRef): K8sOperation => ({
  verb,
  resource: resourceOf(ref),
  namespace,
  name: ref.name,
  idempotent: true,
});

/** `namespace/kind/name`, for logs and messages. */
export const targetName = (namespace: string, ref: TargetRef): string =>
  `${namespace}/${ref.kind === 'Deployment' ? 'deployment' : 'cronjob'}/${ref.name}`;

/** Reads a Deployment or CronJob target. Throws NotFoundError when it does not exist. */
export async function readTarget(
  cluster: ClusterClient,
  namespace: string,
  ref: TargetRef,
): Promise<TargetSnapshot> {
  const object =
    ref.kind === 'Deployment'
      ? await callK8s(cluster.calls, op('get', namespace, ref), (options) =>
          cluster.apps.readNamespacedDeployment({ namespace, name: ref.name }, options),
        )
      : await callK8s(cluster.calls, op('get', namespace, ref), (options) =>
          cluster.batch.readNamespacedCronJob({ namespace, name: ref.name }, options),
        );
  const template =
    'template' in (object.spec ?? {})
      ? (object.spec as { template: V1PodTemplateSpec }).template
      : ((object.spec as { jobTemplate?: { spec?: { template?: V1PodTemplateSpec } } } | undefined)
          ?.jobTemplate?.spec?.template ?? {});
  return {
    ref,
    resourceVersion: object.metadata?.resourceVersion ?? '',
    template,
    annotations: object.metadata?.annotations ?? {},
    hasAnnotations: object.metadata?.annotations !== undefined,
  };
}

/** The template recorded in the target's annotation, if a release recorded one. */
export function recordedTemplate(snapshot: TargetSnapshot): RecordedTemplate | undefined {
  const raw = snapshot.annotations[rolloutAnnotations.recorded];
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<RecordedTemplate>;
    return typeof value.release === 'string' && typeof value.template === 'object' && value.template !== null
      ? { release: value.release, template: value.template }
      : undefined;
  } catch {
    // A damaged annotation counts as none recorded; preflight records a fresh one.
    return undefined;
  }
}

/** JSON Pointer escaping of one path segment (RFC 6901): annotation keys contain "/". */
const annotationPath = (key: string): string =>
  `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/** What one conditional write changes. */
export interface TargetWrite {
  readonly annotations?: Readonly<Record<string, string>>;
  readonly template?: V1PodTemplateSpec;
}

/**
 * Writes annotations and/or the pod template of a target as a JSON patch that carries the
 * resourceVersion it was read at: if anything changed the object since, the apiserver answers 409
 * (ConflictError) and nothing is written.
 */
export async function writeTarget(
  cluster: ClusterClient,
  namespace: string,
  snapshot: TargetSnapshot,
  write: TargetWrite,
): Promise<void> {
  const body = [
    { op: 'add', path: '/metadata/resourceVersion', value: snapshot.resourceVersion },
    ...(snapshot.hasAnnotations ? [] : [{ op: 'add', path: '/metadata/annotations', value: {} }]),
    ...Object.entries(write.annotations ?? {}).map(([key, value]) => ({
      op: 'add',
      path: annotationPath(key),
      value,
    })),
    ...(write.template === undefined
      ? []
      : [{ op: 'replace', path: templatePath(snapshot.ref), value: write.template }]),
  ];
  const headers = (options: Parameters<typeof setHeaderOptions>[2]) =>
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch, options);
  if (snapshot.ref.kind === 'Deployment') {
    await callK8s(cluster.calls, op('patch', namespace, snapshot.ref), (options) =>
      cluster.apps.patchNamespacedDeployment({ namespace, name: snapshot.ref.name, body }, headers(options)),
    );
  } else {
    await callK8s(cluster.calls, op('patch', namespace, snapshot.ref), (options) =>
      cluster.batch.patchNamespacedCronJob({ namespace, name: snapshot.ref.name, body }, headers(options)),
    );
  }
}

/**
 * Reads, decides and writes with a resourceVersion precondition; on a conflict (the controller
 * updated status, another writer changed something) reads again and decides again.
 * `decide` returns undefined when nothing needs writing.
 */
export async function updateTarget(
  cluster: ClusterClient,
  namespace: string,
  ref: TargetRef,
  decide: (snapshot: TargetSnapshot) => TargetWrite | undefined,
  maxConflicts = 5,
): Promise<TargetSnapshot> {
  for (let conflicts = 0; ; conflicts++) {
    const snapshot = await readTarget(cluster, namespace, ref);
    const write = decide(snapshot);
    if (write === undefined) return snapshot;
    try {
      await writeTarget(cluster, namespace, snapshot, write);
      return snapshot;
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}

/** Consumer Deployments of a shop: labelled `app.kubernetes.io/component=consumer`. */
export async function listConsumerDeployments(cluster: ClusterClient, namespace: string): Promise<string[]> {
  const list = await callK8s(
    cluster.calls,
    { verb: 'list', resource: 'deployments.apps', namespace, idempotent: true },
    (options) =>
      cluster.apps.listNamespacedDeployment(
        { namespace, labelSelector: 'app.kubernetes.io/component=consumer' },
        options,
      ),
  );
  return list.items
    .map((d) => d.metadata?.name ?? '')
    .filter((n) => n !== '')
    .sort();
}

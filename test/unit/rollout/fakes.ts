import { ApiException, type V1CronJob, type V1Deployment, type V1Lease } from '@kubernetes/client-node';
import type { CallSettings } from '../../../lib/k8s/call.ts';
import type { ClusterClient } from '../../../lib/k8s/clusterClient.ts';
import { defaultRetryPolicy } from '../../../lib/k8s/retryPolicy.ts';
import type { Log } from '../../../lib/observability/telemetry.ts';
import type {
  FailureKind,
  JobResults,
  ReportOutcome,
  SuccessReport,
} from '../../../lib/rollout/jobResults.ts';

/** A clock that only moves when someone sleeps (or a test advances it). */
export class FakeClock {
  #now: number;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  readonly sleep = async (ms: number): Promise<void> => {
    this.advance(Math.max(1, ms));
  };

  advance(ms: number): void {
    this.#now += ms;
  }
}

/** What CodePipeline was told; like the real service (and the stand-in), a second report per job is refused. */
export type Report =
  | { readonly jobId: string; readonly operation: 'success'; readonly report: SuccessReport }
  | {
      readonly jobId: string;
      readonly operation: 'failure';
      readonly kind: FailureKind;
      readonly message: string;
    };

export class FakeJobResults implements JobResults {
  readonly reports: Report[] = [];

  async succeed(jobId: string, report: SuccessReport): Promise<ReportOutcome> {
    return this.#record({ jobId, operation: 'success', report });
  }

  async fail(jobId: string, kind: FailureKind, message: string): Promise<ReportOutcome> {
    return this.#record({ jobId, operation: 'failure', kind, message });
  }

  #record(report: Report): ReportOutcome {
    if (this.reports.some((r) => r.jobId === report.jobId)) return 'already-reported';
    this.reports.push(report);
    return 'reported';
  }
}

export const quietLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

type Stored = V1Deployment | V1CronJob | V1Lease;
type Kind = 'deployments' | 'cronjobs' | 'leases';

/** One successful write of a target's pod template, in the order the fake apiserver accepted them. */
export interface TemplateWrite {
  readonly target: string;
  readonly images: string[];
}

const clone = <T>(value: T): T => structuredClone(value);
const apiError = (code: number, reason: string, message: string): ApiException<unknown> =>
  new ApiException(code, message, { kind: 'Status', reason, message }, {});

const pointerSegment = (segment: string): string => segment.replaceAll('~1', '/').replaceAll('~0', '~');

/** Applies the `add`/`replace` operations of an RFC 6902 JSON patch (what targets.ts sends). */
function applyJsonPatch(
  document: unknown,
  patch: readonly { op: string; path: string; value: unknown }[],
): void {
  for (const { op, path, value } of patch) {
    if (op !== 'add' && op !== 'replace') throw apiError(422, 'Invalid', `unsupported op ${op}`);
    const segments = path.split('/').slice(1).map(pointerSegment);
    const last = segments.pop();
    let parent = document as Record<string, unknown>;
    for (const segment of segments) {
      const next = parent[segment];
      if (typeof next !== 'object' || next === null) throw apiError(422, 'Invalid', `no ${path}`);
      parent = next as Record<string, unknown>;
    }
    if (last === undefined) throw apiError(422, 'Invalid', 'empty path');
    if (op === 'replace' && !(last in parent)) throw apiError(422, 'Invalid', `no ${path} to replace`);
    parent[last] = clone(value);
  }
}

const imagesOf = (object: Stored, kind: Kind): string[] => {
  const spec =
    kind === 'deployments'
      ? (object as V1Deployment).spec?.template.spec
      : (object as V1CronJob).spec?.jobTemplate.spec?.template.spec;
  return (spec?.containers ?? []).map((c) => c.image ?? '');
};

/**
 * An in-memory apiserver for the calls the rollout makes on Deployments, CronJobs and Leases:
 * resourceVersions with 409 on a stale precondition, 404/AlreadyExists, JSON patches, label
 * selection, and Jobs refused beyond a quota of 0 (as a ResourceQuota would). Every call takes
 * `latencyMs` of the clock's time. Its Deployment "controller" reconciles at once: a Deployment named
 * in `neverReady` whose images differ from those it was seeded with exceeds its progress deadline;
 * anything else completes (all replicas updated and available). It serves no pods, no ReplicaSets
 * and no watches.
 */
export class FakeCluster {
  readonly #objects = new Map<string, Stored>();
  #resourceVersion = 1;
  readonly #seededImages = new Map<string, string>();
  readonly #neverReady: ReadonlySet<string>;
  readonly templateWrites: TemplateWrite[] = [];
  readonly client: ClusterClient;

  constructor(clock: FakeClock, options: { neverReady?: readonly string[]; latencyMs?: number } = {}) {
    this.#neverReady = new Set(options.neverReady ?? []);
    const latency = options.latencyMs ?? 0;
    const timed =
      <A extends unknown[], R>(call: (...args: A) => R) =>
      async (...args: A): Promise<Awaited<R>> => {
        clock.advance(latency);
        return await call(...args);
      };
    const calls: CallSettings = {
      timeoutMs: 1000,
      retry: defaultRetryPolicy,
      sleep: clock.sleep,
      random: () => 0.5,
      now: clock.now,
    };
    const apps = {
      readNamespacedDeployment: timed((r: { namespace: string; name: string }) =>
        this.#read('deployments', r.namespace, r.name),
      ),
      patchNamespacedDeployment: timed((r: { namespace: string; name: string; body: unknown }) =>
        this.#patch('deployments', r.namespace, r.name, r.body),
      ),
      listNamespacedDeployment: timed((r: { namespace: string; labelSelector?: string }) => ({
        items: this.#list('deployments', r.namespace, r.labelSelector),
      })),
      listNamespacedReplicaSet: timed(() => ({ items: [] })),
    };
    const batch = {
      readNamespacedCronJob: timed((r: { namespace: string; name: string }) =>
        this.#read('cronjobs', r.namespace, r.name),
      ),
      patchNamespacedCronJob: timed((r: { namespace: string; name: string; body: unknown }) =>
        this.#patch('cronjobs', r.namespace, r.name, r.body),
      ),
      createNamespacedJob: timed((r: { namespace: string }) => {
        throw apiError(
          403,
          'Forbidden',
          `jobs is forbidden: exceeded quota in ${r.namespace}: count/jobs.batch=0`,
        );
      }),
    };
    const core = { listNamespacedPod: timed(() => ({ metadata: {}, items: [] })) };
    const coordination = {
      readNamespacedLease: timed((r: { namespace: string; name: string }) =>
        this.#read('leases', r.namespace, r.name),
      ),
      createNamespacedLease: timed((r: { namespace: string; body: V1Lease }) => {
        const name = r.body.metadata?.name ?? '';
        if (this.#objects.has(this.#key('leases', r.namespace, name)))
          throw apiError(409, 'AlreadyExists', `leases "${name}" already exists`);
        return this.#store('leases', r.namespace, name, r.body);
      }),
      replaceNamespacedLease: timed((r: { namespace: string; name: string; body: V1Lease }) => {
        const current = this.#read('leases', r.namespace, r.name);
        if (r.body.metadata?.resourceVersion !== current.metadata?.resourceVersion)
          throw apiError(409, 'Conflict', 'the object has been modified');
        return this.#store('leases', r.namespace, r.name, r.body);
      }),
    };
    // Only the calls above exist: anything else the rollout starts calling fails the test loudly.
    this.client = { apps, batch, core, coordination, calls } as unknown as ClusterClient;
  }

  #key = (kind: Kind, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

  #read<T extends Stored>(kind: Kind, namespace: string, name: string): T {
    const object = this.#objects.get(this.#key(kind, namespace, name));
    if (object === undefined) throw apiError(404, 'NotFound', `${kind} "${name}" not found`);
    return clone(object) as T;
  }

  #store<T extends Stored>(kind: Kind, namespace: string, name: string, body: T): T {
    const object = clone(body);
    object.metadata = {
      ...object.metadata,
      name,
      namespace,
      resourceVersion: String(++this.#resourceVersion),
    };
    if (kind === 'deployments') this.#reconcile(object as V1Deployment);
    this.#objects.set(this.#key(kind, namespace, name), object);
    return clone(object);
  }

  #patch(kind: Kind, namespace: string, name: string, body: unknown): Stored {
    const current = this.#read<Stored>(kind, namespace, name);
    const next = clone(current);
    applyJsonPatch(next, body as { op: string; path: string; value: unknown }[]);
    if (next.metadata?.resourceVersion !== current.metadata?.resourceVersion)
      throw apiError(
        409,
        'Conflict',
        'the object has been modified; please apply your changes to the latest version',
      );
    const before = JSON.stringify(imagesOf(current, kind));
    if (kind === 'deployments' && next.metadata)
      next.metadata.generation = (current.metadata?.generation ?? 1) + 1;
    const stored = this.#store(kind, namespace, name, next);
    if (JSON.stringify(imagesOf(stored, kind)) !== before) {
      this.templateWrites.push({ target: `${kind}/${name}`, images: imagesOf(stored, kind) });
    }
    return stored;
  }

  #list(kind: Kind, namespace: string, labelSelector: string | undefined): Stored[] {
    const [key, value] = (labelSelector ?? '').split('=');
    return [...this.#objects.entries()]
      .filter(([k]) => k.startsWith(`${kind}/${namespace}/`))
      .map(([, o]) => clone(o))
      .filter((o) => key === undefined || key === '' || o.metadata?.labels?.[key] === value);
  }

  /** The Deployment controller, done at once. */
  #reconcile(deployment: V1Deployment): void {
    const replicas = deployment.spec?.replicas ?? 1;
    const name = deployment.metadata?.name ?? '';
    const broken =
      this.#neverReady.has(name) &&
      JSON.stringify(imagesOf(deployment, 'deployments')) !== this.#seededImages.get(name);
    deployment.status = {
      observedGeneration: deployment.metadata?.generation ?? 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: broken ? 0 : replicas,
      availableReplicas: broken ? 0 : replicas,
      conditions: broken
        ? [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'timed out' }]
        : [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
    };
  }

  /** Seeds a Deployment of `replicas` running `image` in containers nginx and php-fpm. */
  addDeployment(namespace: string, name: string, image: string, labels: Record<string, string> = {}): void {
    this.#seededImages.set(name, JSON.stringify([image, image]));
    this.#store('deployments', namespace, name, {
      metadata: { name, namespace, labels, generation: 1, annotations: {} },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              { name: 'nginx', image },
              { name: 'php-fpm', image },
            ],
          },
        },
      },
    } satisfies V1Deployment);
  }

  addCronJob(namespace: string, name: string, image: string, annotations: Record<string, string> = {}): void {
    this.#store('cronjobs', namespace, name, {
      metadata: { name, namespace, annotations },
      spec: {
        schedule: '* * * * *',
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'cron', image }] } } } },
      },
    } satisfies V1CronJob);
  }

  /** Seeds the shop Lease as held by `holder` (renewed now, 900 s). */
  addLease(
    namespace: string,
    name: string,
    spec: V1Lease['spec'],
    annotations?: Record<string, string>,
  ): void {
    this.#store('leases', namespace, name, {
      metadata: { name, namespace, ...(annotations === undefined ? {} : { annotations }) },
      spec,
    } satisfies V1Lease);
  }

  images(kind: 'deployments' | 'cronjobs', namespace: string, name: string): string[] {
    return imagesOf(this.#read(kind, namespace, name), kind);
  }

  lease(namespace: string, name: string): V1Lease {
    return this.#read('leases', namespace, name);
  }

  annotations(kind: 'deployments' | 'cronjobs', namespace: string, name: string): Record<string, string> {
    return this.#read<Stored>(kind, namespace, name).metadata?.annotations ?? {};
  }
}

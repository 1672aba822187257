import type {
  CoreV1Event,
  V1CronJob,
  V1Deployment,
  V1DeploymentSpec,
  V1Job,
  V1Lease,
  V1Namespace,
  V1ObjectMeta,
  V1Pod,
  V1PodTemplateSpec,
  V1Scale,
  V1Service,
} from '@kubernetes/client-node';
import type { CallSettings } from '../../../lib/k8s/call.ts';
import type {
  CallOptions,
  ClusterClient,
  ListedResource,
  ListOf,
  ListQuery,
  ObjectOf,
  Patch,
  ProxiedResponse,
  WatchEvent,
  WatchHandle,
  WatchQuery,
} from '../../../lib/k8s/clusterClient.ts';
import type { ObjectRef } from '../../../lib/k8s/objectRef.ts';
import { defaultRetryPolicy } from '../../../lib/k8s/retryPolicy.ts';
import { apiError } from './apiErrors.ts';
import { Behaviours, defaultTiming, type ImageBehaviour, type KubeletTiming } from './behaviour.ts';
import { FakeClock } from './clock.ts';
import {
  type ControllerContext,
  DeploymentController,
  JobController,
  Kubelet,
  ownedBy,
  ReplicaSetController,
} from './controllers.ts';
import { type HttpBehaviour, HttpBehaviours, proxyStatus } from './http.ts';
import { applyPatch, wire } from './patch.ts';
import { type Collection, type Collections, createCollections, type Kind, type Kinds } from './store.ts';

/** A request the fake apiserver received (for tests that count requests). */
export interface FakeRequest {
  readonly verb: 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'delete';
  readonly resource: Kind | 'namespaces' | 'deployments/scale' | 'pods/log' | 'services' | 'services/proxy';
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

/** An injected failure: the next `times` requests that match answer `status` instead. */
export interface Fault {
  readonly verb?: FakeRequest['verb'];
  readonly resource?: FakeRequest['resource'];
  readonly name?: string;
  /** 409 Conflict, 429 Too Many Requests, 5xx, 403 … as the apiserver would answer. */
  readonly status: number;
  readonly reason?: string;
  readonly message?: string;
  readonly retryAfterSeconds?: number;
  /** How many matching requests fail (default 1). */
  readonly times?: number;
}

/** One accepted write that changed a Deployment's or CronJob's container images. */
export interface TemplateWrite {
  readonly target: string;
  readonly images: string[];
}

export interface FakeClusterOptions {
  readonly clock?: FakeClock;
  /** Every request takes this long on the clock. */
  readonly latencyMs?: number;
  readonly timing?: Partial<KubeletTiming>;
  /** How long a watch lasts when the request names no timeoutSeconds (the apiserver's is 30–60 min). */
  readonly defaultWatchSeconds?: number;
}

/** What a seeded Deployment looks like. */
export interface DeploymentSeed {
  readonly image?: string;
  /** Container names (each runs `image`); default nginx and php-fpm. */
  readonly containers?: readonly string[];
  readonly replicas?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly strategy?: V1DeploymentSpec['strategy'];
  readonly minReadySeconds?: number;
  readonly progressDeadlineSeconds?: number;
}

const templateOf = (object: V1Deployment | V1CronJob): V1PodTemplateSpec | undefined =>
  object.spec !== undefined && 'template' in object.spec
    ? object.spec.template
    : object.spec !== undefined && 'jobTemplate' in object.spec
      ? object.spec.jobTemplate.spec?.template
      : undefined;

const imagesOf = (object: V1Deployment | V1CronJob): string[] =>
  (templateOf(object)?.spec?.containers ?? []).map((c) => c.image ?? '');

/**
 * An in-memory Kubernetes apiserver with the controllers that matter to lib/, implementing the
 * {@link ClusterClient} port: Deployments roll out through ReplicaSets to pods (maxSurge /
 * maxUnavailable, minReadySeconds, progress deadline, revisions), pods progress on the test's
 * clock as their images' behaviour says (Ready, never Ready, ImagePullBackOff, CrashLoopBackOff),
 * Jobs run pods that succeed, fail (with a log) or hang, Leases and CronJobs are stored. Every write
 * gets a resourceVersion; a stale one in a write answers 409; watches resume from a resourceVersion,
 * expire, and answer 410 Gone after `compact()`. `fail()` injects 409/429/5xx answers.
 *
 * @example
 * const cluster = new FakeCluster();
 * cluster.addDeployment('shop-a', 'm2-http', { image: 'magento:2.4.7' });
 * await rollOut(cluster, …); cluster.clock.advance(5_000);
 */
export class FakeCluster implements ClusterClient {
  readonly clock: FakeClock;
  readonly calls: CallSettings;
  readonly requests: FakeRequest[] = [];
  readonly templateWrites: TemplateWrite[] = [];
  readonly #store: Collections;
  readonly #behaviours = new Behaviours();
  readonly #http = new HttpBehaviours();
  /** Services by `namespace/name`: only stored and proxied through (no watch, no ClusterIP routing). */
  readonly #services = new Map<string, V1Service>();
  /** Annotations of namespaces by name; every namespace exists, as every object's namespace does. */
  readonly #namespaces = new Map<string, Record<string, string>>();
  /** Paths requested through the service proxy, in order (`namespace/service:port path`). */
  readonly proxied: string[] = [];
  #proxyTurn = 0;
  readonly #faults: { fault: Fault; left: number }[] = [];
  readonly #latencyMs: number;
  readonly #defaultWatchSeconds: number;
  readonly #kubelet: Kubelet;
  readonly #controllers: { reconcile(now: number): boolean; nextChange(now: number): number | undefined }[];
  #resourceVersion = 100;
  #ids = 0;
  #settledAt: number;
  #settling = false;
  #seeding = false;

  constructor(options: FakeClusterOptions = {}) {
    this.clock = options.clock ?? new FakeClock();
    this.#latencyMs = options.latencyMs ?? 0;
    this.#defaultWatchSeconds = options.defaultWatchSeconds ?? 1800;
    this.calls = {
      timeoutMs: 1000,
      retry: defaultRetryPolicy,
      sleep: this.clock.sleep,
      random: () => 0.5,
      now: this.clock.now,
    };
    this.#store = createCollections({
      nextResourceVersion: () => ++this.#resourceVersion,
      now: this.clock.now,
    });
    const context: ControllerContext = {
      store: this.#store,
      behaviours: this.#behaviours,
      timing: { ...defaultTiming, ...options.timing },
      nextId: () => (++this.#ids).toString(36).padStart(5, '0'),
      // Seeded objects are long established: their pods were created a day ago.
      creationTime: (now) => (this.#seeding ? now - 86_400_000 : now),
    };
    this.#kubelet = new Kubelet(context);
    const replicaSets = new ReplicaSetController(context, this.#kubelet);
    this.#controllers = [
      this.#kubelet,
      replicaSets,
      new DeploymentController(context, replicaSets),
      new JobController(context),
    ];
    this.#settledAt = this.clock.now();
    this.clock.onAdvance(() => this.settle());
  }

  // --- the test's side -------------------------------------------------------------------------

  /** What containers running `image` do (in every pod, or only in those of one Deployment or Job). */
  setImageBehaviour(image: string, behaviour: ImageBehaviour, owner?: string): void {
    this.#behaviours.set(image, behaviour, owner);
    this.settle();
  }

  /** What web containers running `image` answer through the service proxy (default: the Magento stand-in's storefront). */
  setHttpBehaviour(image: string, behaviour: HttpBehaviour): void {
    this.#http.set(image, behaviour);
  }

  /** A stored Service (a copy), or undefined. */
  service(namespace: string, name: string): V1Service | undefined {
    const service = this.#services.get(`${namespace}/${name}`);
    return service === undefined ? undefined : wire(service);
  }

  /** The next `times` requests matching the fault answer its status instead of being served. */
  fail(fault: Fault): void {
    this.#faults.push({ fault, left: fault.times ?? 1 });
  }

  /** Ends every open watch, as an apiserver restart does; informers resume from their resourceVersion. */
  dropWatches(): void {
    for (const collection of Object.values(this.#store)) collection.closeAll();
  }

  /** Forgets the change history: watches resuming from before now get 410 Gone (and must re-list). */
  compact(): void {
    for (const collection of Object.values(this.#store)) collection.compact();
  }

  /** Watches currently open, over all resources. */
  get openWatches(): number {
    return Object.values(this.#store).reduce((n, c) => n + c.watchCount, 0);
  }

  /** Seeds a Deployment whose pods have long been Ready (replicas 3, containers nginx and php-fpm by default). */
  addDeployment(namespace: string, name: string, seed: DeploymentSeed = {}): void {
    // As k8s-manifests label them (app.kubernetes.io/name), plus the short `app` the tests select by.
    const labels = { app: name, 'app.kubernetes.io/name': name };
    const image = seed.image ?? 'registry.example/magento:1';
    this.#seed(() =>
      this.#store.deployments.put({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: this.#newMeta(namespace, name, { ...seed.labels }, { ...seed.annotations }),
        spec: {
          replicas: seed.replicas ?? 3,
          selector: { matchLabels: labels },
          ...(seed.strategy === undefined ? {} : { strategy: seed.strategy }),
          ...(seed.minReadySeconds === undefined ? {} : { minReadySeconds: seed.minReadySeconds }),
          ...(seed.progressDeadlineSeconds === undefined
            ? {}
            : { progressDeadlineSeconds: seed.progressDeadlineSeconds }),
          template: {
            metadata: { labels },
            spec: { containers: (seed.containers ?? ['nginx', 'php-fpm']).map((c) => ({ name: c, image })) },
          },
        },
      }),
    );
  }

  /** Seeds a CronJob (suspended unless a schedule matters) running `image` in container `cron`. */
  addCronJob(namespace: string, name: string, image: string, annotations: Record<string, string> = {}): void {
    this.#store.cronjobs.put({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: this.#newMeta(namespace, name, {}, annotations),
      spec: {
        schedule: '* * * * *',
        suspend: true,
        jobTemplate: {
          metadata: { labels: { app: name } },
          spec: {
            backoffLimit: 0,
            template: { spec: { restartPolicy: 'Never', containers: [{ name: 'cron', image }] } },
          },
        },
      },
    });
  }

  /** Sets a namespace's annotations (every namespace exists, without any until then). */
  annotateNamespace(name: string, annotations: Record<string, string>): void {
    this.#namespaces.set(name, { ...annotations });
  }

  /** Seeds a Lease. */
  addLease(
    namespace: string,
    name: string,
    spec: V1Lease['spec'],
    annotations?: Record<string, string>,
  ): void {
    this.#store.leases.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(annotations === undefined ? {} : { annotations }) },
      ...(spec === undefined ? {} : { spec }),
    });
  }

  /** An object as stored (a copy), or undefined. */
  object<K extends Kind>(kind: K, namespace: string, name: string): Kinds[K] | undefined {
    const collection: Collection<Kinds[K]> = this.#store[kind];
    return collection.get(namespace, name);
  }

  /** Objects of a kind in a namespace, by label selector. */
  objects<K extends Kind>(kind: K, namespace: string, labelSelector?: string): Kinds[K][] {
    const collection: Collection<Kinds[K]> = this.#store[kind];
    return collection.list({ namespace, ...(labelSelector === undefined ? {} : { labelSelector }) });
  }

  images(kind: 'deployments' | 'cronjobs', namespace: string, name: string): string[] {
    const object =
      kind === 'deployments'
        ? this.object('deployments', namespace, name)
        : this.object('cronjobs', namespace, name);
    return object === undefined ? [] : imagesOf(object);
  }

  annotations(kind: 'deployments' | 'cronjobs', namespace: string, name: string): Record<string, string> {
    const object =
      kind === 'deployments'
        ? this.object('deployments', namespace, name)
        : this.object('cronjobs', namespace, name);
    return object?.metadata?.annotations ?? {};
  }

  lease(namespace: string, name: string): V1Lease | undefined {
    return this.object('leases', namespace, name);
  }

  /** Lets the controllers and the kubelet catch up with the clock (done on every clock move and request). */
  settle(): void {
    if (this.#settling) return;
    this.#settling = true;
    try {
      const now = this.clock.now();
      for (;;) {
        const next = this.#nextChange();
        if (next === undefined || next > now) break;
        this.#settledAt = Math.max(this.#settledAt, next);
        this.#reconcile(this.#settledAt);
      }
      this.#settledAt = now;
      this.#reconcile(now);
    } finally {
      this.#settling = false;
    }
  }

  // --- the port --------------------------------------------------------------------------------

  async list<R extends ListedResource>(
    resource: R,
    query: ListQuery,
    _options?: CallOptions,
  ): Promise<ListOf<R>> {
    this.#request('list', resource, query.namespace, undefined);
    const collection: Collection<Kinds[R]> = this.#store[resource];
    return { metadata: { resourceVersion: String(this.#resourceVersion) }, items: collection.list(query) };
  }

  async watch<R extends ListedResource>(
    resource: R,
    query: WatchQuery,
    onEvent: (event: WatchEvent<ObjectOf<R>>) => void,
    onDone: (error?: unknown) => void,
  ): Promise<WatchHandle> {
    this.#request('watch', resource, query.namespace, undefined);
    const collection: Collection<Kinds[R]> = this.#store[resource];
    return collection.watch(
      query,
      query.resourceVersion,
      query.timeoutSeconds ?? this.#defaultWatchSeconds,
      onEvent,
      onDone,
    );
  }

  async getNamespace(name: string): Promise<V1Namespace> {
    this.#request('get', 'namespaces', undefined, name);
    const annotations = this.#namespaces.get(name);
    return {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, ...(annotations === undefined ? {} : { annotations: { ...annotations } }) },
    };
  }

  async getDeployment(ref: ObjectRef): Promise<V1Deployment> {
    this.#request('get', 'deployments', ref.namespace, ref.name);
    return this.#found('deployments', ref);
  }

  async createDeployment(namespace: string, deployment: V1Deployment): Promise<V1Deployment> {
    const name = deployment.metadata?.name ?? '';
    this.#request('create', 'deployments', namespace, name);
    return this.#create('deployments', namespace, name, deployment);
  }

  /** As a background deletion: the Deployment at once, then (the garbage collector) its ReplicaSets and their pods. */
  async deleteDeployment(ref: ObjectRef): Promise<void> {
    this.#request('delete', 'deployments', ref.namespace, ref.name);
    const gone = this.#store.deployments.delete(ref.namespace, ref.name);
    if (gone === undefined) throw apiError(404, 'NotFound', `deployments.apps "${ref.name}" not found`);
    for (const rs of this.#store.replicasets.all().filter((rs) => ownedBy(rs.metadata, gone.metadata?.uid))) {
      for (const pod of this.#store.pods.all().filter((pod) => ownedBy(pod.metadata, rs.metadata?.uid))) {
        this.#store.pods.delete(pod.metadata?.namespace, pod.metadata?.name ?? '');
      }
      this.#store.replicasets.delete(rs.metadata?.namespace, rs.metadata?.name ?? '');
    }
    this.settle();
  }

  async patchDeployment(ref: ObjectRef, patch: Patch): Promise<V1Deployment> {
    this.#request('patch', 'deployments', ref.namespace, ref.name);
    return this.#patch('deployments', ref, patch);
  }

  async getDeploymentScale(ref: ObjectRef): Promise<V1Scale> {
    this.#request('get', 'deployments/scale', ref.namespace, ref.name);
    return this.#scaleOf(this.#found('deployments', ref));
  }

  async updateDeploymentScale(ref: ObjectRef, scale: V1Scale): Promise<V1Scale> {
    this.#request('update', 'deployments/scale', ref.namespace, ref.name);
    const current = this.#found('deployments', ref);
    this.#precondition(
      'deployments',
      ref,
      scale.metadata?.resourceVersion,
      current.metadata?.resourceVersion,
    );
    const replicas = scale.spec?.replicas ?? 0;
    const updated = this.#write('deployments', current, {
      ...current,
      spec: {
        selector: current.spec?.selector ?? {},
        template: current.spec?.template ?? {},
        ...current.spec,
        replicas,
      },
    });
    return this.#scaleOf(updated);
  }

  async getPodLog(ref: ObjectRef, tailLines: number): Promise<string> {
    this.#request('get', 'pods/log', ref.namespace, ref.name);
    const pod: V1Pod = this.#found('pods', ref);
    const lines = [...this.#kubeletLog(pod)];
    return `${lines.slice(-tailLines).join('\n')}\n`;
  }

  async createJob(namespace: string, job: V1Job): Promise<V1Job> {
    const name = job.metadata?.name ?? '';
    this.#request('create', 'jobs', namespace, name);
    return this.#create('jobs', namespace, name, job);
  }

  /** As a foreground deletion, settled at once: the Job's pods, then the Job. */
  async deleteJob(ref: ObjectRef): Promise<void> {
    this.#request('delete', 'jobs', ref.namespace, ref.name);
    const job = this.#store.jobs.get(ref.namespace, ref.name);
    if (job === undefined) throw apiError(404, 'NotFound', `jobs.batch "${ref.name}" not found`);
    for (const pod of this.#store.pods.all().filter((pod) => ownedBy(pod.metadata, job.metadata?.uid))) {
      this.#store.pods.delete(pod.metadata?.namespace, pod.metadata?.name ?? '');
    }
    this.#store.jobs.delete(ref.namespace, ref.name);
    this.settle();
  }

  async getCronJob(ref: ObjectRef): Promise<V1CronJob> {
    this.#request('get', 'cronjobs', ref.namespace, ref.name);
    return this.#found('cronjobs', ref);
  }

  async patchCronJob(ref: ObjectRef, patch: Patch): Promise<V1CronJob> {
    this.#request('patch', 'cronjobs', ref.namespace, ref.name);
    return this.#patch('cronjobs', ref, patch);
  }

  async createEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event> {
    const name = event.metadata?.name ?? '';
    this.#request('create', 'events', namespace, name);
    return this.#create('events', namespace, name, event);
  }

  async patchEvent(ref: ObjectRef, patch: Patch): Promise<CoreV1Event> {
    this.#request('patch', 'events', ref.namespace, ref.name);
    const current = this.#found('events', ref);
    return this.#write('events', current, applyPatch(current, patch));
  }

  /** The Events recorded about one object, as `kubectl describe` would list them. */
  events(namespace: string, involvedName: string): CoreV1Event[] {
    return this.#store.events.list({ namespace }).filter((e) => e.involvedObject.name === involvedName);
  }

  async createService(namespace: string, service: V1Service): Promise<V1Service> {
    const name = service.metadata?.name ?? '';
    this.#request('create', 'services', namespace, name);
    if (this.#services.has(`${namespace}/${name}`)) {
      throw apiError(409, 'AlreadyExists', `services "${name}" already exists`);
    }
    const stored: V1Service = {
      ...wire(service),
      metadata: this.#newMeta(
        namespace,
        name,
        service.metadata?.labels ?? {},
        service.metadata?.annotations ?? {},
      ),
    };
    this.#services.set(`${namespace}/${name}`, stored);
    return wire(stored);
  }

  async deleteService(ref: ObjectRef): Promise<void> {
    this.#request('delete', 'services', ref.namespace, ref.name);
    if (!this.#services.delete(`${ref.namespace}/${ref.name}`)) {
      throw apiError(404, 'NotFound', `services "${ref.name}" not found`);
    }
  }

  /**
   * As the apiserver's proxy does: a Ready pod the Service selects answers (round robin), with the
   * behaviour of its first container's image; without one, the apiserver's 503 Status.
   */
  async proxyServiceGet(ref: ObjectRef, port: string, path: string): Promise<ProxiedResponse> {
    this.#request('get', 'services/proxy', ref.namespace, `${ref.name}:${port}`);
    this.proxied.push(`${ref.namespace}/${ref.name}:${port} ${path}`);
    const service = this.#services.get(`${ref.namespace}/${ref.name}`);
    if (service === undefined) return proxyStatus(404, 'NotFound', `services "${ref.name}" not found`);
    const selector = Object.entries(service.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const ready = this.#store.pods
      .list({ namespace: ref.namespace, labelSelector: selector })
      .filter(
        (p) =>
          p.metadata?.deletionTimestamp === undefined &&
          (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      );
    const pod = ready[this.#proxyTurn++ % Math.max(1, ready.length)];
    if (pod === undefined) {
      return proxyStatus(503, 'ServiceUnavailable', `no endpoints available for service "${ref.name}"`);
    }
    return this.#http.of(pod.spec?.containers[0]?.image ?? '')(path);
  }

  async getLease(ref: ObjectRef): Promise<V1Lease> {
    this.#request('get', 'leases', ref.namespace, ref.name);
    return this.#found('leases', ref);
  }

  async createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    const name = lease.metadata?.name ?? '';
    this.#request('create', 'leases', namespace, name);
    return this.#create('leases', namespace, name, lease);
  }

  async updateLease(ref: ObjectRef, lease: V1Lease): Promise<V1Lease> {
    this.#request('update', 'leases', ref.namespace, ref.name);
    const current = this.#found('leases', ref);
    this.#precondition('leases', ref, lease.metadata?.resourceVersion, current.metadata?.resourceVersion);
    return this.#write('leases', current, lease);
  }

  // --- inside the apiserver --------------------------------------------------------------------

  /** Takes the request's time, records it, answers an injected fault if one matches, and catches up. */
  #request(
    verb: FakeRequest['verb'],
    resource: FakeRequest['resource'],
    namespace: string | undefined,
    name: string | undefined,
  ): void {
    if (this.#latencyMs > 0) this.clock.advance(this.#latencyMs);
    this.settle();
    this.requests.push({ verb, resource, namespace, name });
    const match = this.#faults.find(
      ({ fault, left }) =>
        left > 0 &&
        (fault.verb === undefined || fault.verb === verb) &&
        (fault.resource === undefined || fault.resource === resource) &&
        (fault.name === undefined || fault.name === name),
    );
    if (match === undefined) return;
    match.left--;
    const { status, reason, message, retryAfterSeconds } = match.fault;
    throw apiError(
      status,
      reason,
      message ?? `injected ${status} for ${verb} ${resource}`,
      retryAfterSeconds,
    );
  }

  #found<K extends Kind>(kind: K, ref: ObjectRef): Kinds[K] {
    const collection: Collection<Kinds[K]> = this.#store[kind];
    const object = collection.get(ref.namespace, ref.name);
    if (object === undefined) throw apiError(404, 'NotFound', `${kind} "${ref.name}" not found`);
    return object;
  }

  #precondition(kind: Kind, ref: ObjectRef, given: string | undefined, current: string | undefined): void {
    if (given !== undefined && given !== '' && given !== current) {
      throw apiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${kind} "${ref.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
  }

  #create<K extends Kind>(kind: K, namespace: string, name: string, object: Kinds[K]): Kinds[K] {
    const collection: Collection<Kinds[K]> = this.#store[kind];
    if (collection.get(namespace, name) !== undefined) {
      throw apiError(409, 'AlreadyExists', `${kind} "${name}" already exists`);
    }
    const created = collection.put({
      ...wire(object),
      metadata: {
        ...this.#newMeta(namespace, name, object.metadata?.labels ?? {}, object.metadata?.annotations ?? {}),
        // Kept as the apiserver keeps them: a CronJob's Jobs name their owner.
        ...(object.metadata?.ownerReferences === undefined
          ? {}
          : { ownerReferences: wire(object.metadata.ownerReferences) }),
      },
    });
    this.settle();
    return created;
  }

  #patch<K extends 'deployments' | 'cronjobs'>(kind: K, ref: ObjectRef, patch: Patch): Kinds[K] {
    const current = this.#found(kind, ref);
    const patched = applyPatch(current, patch);
    this.#precondition(kind, ref, patched.metadata?.resourceVersion, current.metadata?.resourceVersion);
    const stored = this.#write(kind, current, patched);
    if (JSON.stringify(imagesOf(stored)) !== JSON.stringify(imagesOf(current))) {
      this.templateWrites.push({ target: `${kind}/${ref.name}`, images: imagesOf(stored) });
    }
    return stored;
  }

  /**
   * Stores a client's write over `current`: metadata the server owns (uid, creation, status) stays;
   * a Deployment's generation rises when its spec or annotations change, as the apiserver does.
   */
  #write<K extends Kind>(kind: K, current: Kinds[K], next: Kinds[K]): Kinds[K] {
    const collection: Collection<Kinds[K]> = this.#store[kind];
    const changedSpec =
      JSON.stringify(next.metadata?.annotations ?? {}) !==
        JSON.stringify(current.metadata?.annotations ?? {}) ||
      ('spec' in next && 'spec' in current && JSON.stringify(next.spec) !== JSON.stringify(current.spec));
    const generation = (current.metadata?.generation ?? 1) + (kind === 'deployments' && changedSpec ? 1 : 0);
    const metadata: V1ObjectMeta = {
      ...next.metadata,
      name: current.metadata?.name,
      namespace: current.metadata?.namespace,
      uid: current.metadata?.uid,
      creationTimestamp: current.metadata?.creationTimestamp,
      generation,
    };
    const stored = collection.put({
      ...next,
      metadata,
      ...('status' in current ? { status: current.status } : {}),
    });
    this.settle();
    return stored;
  }

  #newMeta(
    namespace: string,
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
  ): V1ObjectMeta {
    return {
      name,
      namespace,
      uid: `uid-${(++this.#ids).toString(36)}`,
      generation: 1,
      creationTimestamp: new Date(this.clock.now()),
      labels,
      annotations,
    };
  }

  #scaleOf(deployment: V1Deployment): V1Scale {
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: {
        name: deployment.metadata?.name,
        namespace: deployment.metadata?.namespace,
        resourceVersion: deployment.metadata?.resourceVersion,
      },
      spec: { replicas: deployment.spec?.replicas ?? 0 },
      status: { replicas: deployment.status?.replicas ?? 0 },
    };
  }

  #kubeletLog(pod: V1Pod): readonly string[] {
    const image = pod.spec?.containers[0]?.image ?? '';
    return this.#behaviours.of(image, this.#kubelet.owner(pod)).log ?? [];
  }

  #seed(create: () => void): void {
    this.#seeding = true;
    try {
      create();
      this.settle();
    } finally {
      this.#seeding = false;
    }
  }

  #nextChange(): number | undefined {
    const now = this.clock.now();
    const times = [
      ...this.#controllers.map((c) => c.nextChange(this.#settledAt)),
      ...Object.values(this.#store).map((c) => c.nextExpiry()),
    ].filter((t): t is number => t !== undefined && t > this.#settledAt && t <= now);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  #reconcile(now: number): void {
    for (const collection of Object.values(this.#store)) collection.expire(now);
    for (let round = 0; round < 50; round++) {
      let changed = false;
      for (const controller of this.#controllers) changed = controller.reconcile(now) || changed;
      if (!changed) return;
    }
    throw new Error('the fake cluster did not settle in 50 rounds');
  }
}

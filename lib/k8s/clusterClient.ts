import type {
  CoreV1Event,
  KubernetesListObject,
  V1CronJob,
  V1Deployment,
  V1Job,
  V1Lease,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1Scale,
  V1Service,
  V1Status,
} from '@kubernetes/client-node';
import type { CallSettings } from './call.ts';
import type { ObjectRef } from './objectRef.ts';

/** Per-request options: the signal aborts the request (callK8s sets it to the per-attempt timeout). */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** One operation of an RFC 6902 JSON patch. */
export interface JsonPatchOperation {
  readonly op: 'add' | 'replace' | 'remove' | 'test';
  /** JSON Pointer (RFC 6901). */
  readonly path: string;
  readonly value?: unknown;
}

/** A patch and how the apiserver is to interpret it. */
export type Patch =
  | { readonly type: 'json'; readonly operations: readonly JsonPatchOperation[] }
  | { readonly type: 'merge' | 'strategic'; readonly document: object };

/** The resources lib/ lists and watches (by their plural, as in the API path), with their object types. */
export interface ListedResources {
  readonly deployments: V1Deployment;
  readonly replicasets: V1ReplicaSet;
  readonly pods: V1Pod;
  readonly jobs: V1Job;
}
export type ListedResource = keyof ListedResources;
export type ObjectOf<R extends ListedResource> = ListedResources[R];
/** A page of a list: the objects and the list's resourceVersion and `continue` token. */
export type ListOf<R extends ListedResource> = KubernetesListObject<ObjectOf<R>>;

/**
 * What came back through the apiserver's service proxy: the backend's answer, or the apiserver's own
 * (a `Status` object) when it could not reach one or refused the request.
 */
export interface ProxiedResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** Which objects a list or watch selects. */
export interface Selection {
  /** Undefined: all namespaces. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface ListQuery extends Selection {
  readonly limit?: number;
  /** The `continue` token of the previous page. */
  readonly continue?: string;
}

export interface WatchQuery extends Selection {
  /** Start after this version (a list's metadata.resourceVersion); without it, every match arrives as ADDED first. */
  readonly resourceVersion?: string;
  /** The apiserver ends the watch after this long. */
  readonly timeoutSeconds?: number;
}

/** One event of a watch; ERROR carries the apiserver's Status (code 410 when the version is too old). */
export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; readonly object: T }
  | { readonly type: 'ERROR'; readonly object: V1Status };

/** Ends a watch; the watch's `onDone` is not called for an ending asked for this way. */
export interface WatchHandle {
  stop(): void;
}

/**
 * The Kubernetes port: exactly the calls lib/ makes, and nothing else. Each method is one request
 * to the apiserver, failing as the apiserver answered; retries, timeouts and typed errors are added
 * above it by `callK8s` (lib/k8s/call.ts). `createClusterClient` implements it over
 * @kubernetes/client-node; test/helpers/fakeCluster implements it in memory.
 */
export interface ClusterClient {
  /** How calls through this client behave: timeout, retries, and the clock and randomness they use. */
  readonly calls: CallSettings;

  list<R extends ListedResource>(resource: R, query: ListQuery, options?: CallOptions): Promise<ListOf<R>>;
  /**
   * Streams changes of the selected objects. `onDone` is called once when the watch ends by itself:
   * without an argument when the apiserver closed it (timeout), with the error when it failed.
   */
  watch<R extends ListedResource>(
    resource: R,
    query: WatchQuery,
    onEvent: (event: WatchEvent<ObjectOf<R>>) => void,
    onDone: (error?: unknown) => void,
  ): Promise<WatchHandle>;

  /** A shop's namespace, for its annotations (the consumer pod budget). */
  getNamespace(name: string, options?: CallOptions): Promise<V1Namespace>;

  getDeployment(ref: ObjectRef, options?: CallOptions): Promise<V1Deployment>;
  /** The rollout's preview Deployment (lib/rollout/preview.ts): made and deleted per release. */
  createDeployment(namespace: string, deployment: V1Deployment, options?: CallOptions): Promise<V1Deployment>;
  /** Deletes in the background: the Deployment goes at once, the garbage collector takes its pods. */
  deleteDeployment(ref: ObjectRef, options?: CallOptions): Promise<void>;
  patchDeployment(ref: ObjectRef, patch: Patch, options?: CallOptions): Promise<V1Deployment>;
  getDeploymentScale(ref: ObjectRef, options?: CallOptions): Promise<V1Scale>;
  updateDeploymentScale(ref: ObjectRef, scale: V1Scale, options?: CallOptions): Promise<V1Scale>;

  getPodLog(ref: ObjectRef, tailLines: number, options?: CallOptions): Promise<string>;

  createJob(namespace: string, job: V1Job, options?: CallOptions): Promise<V1Job>;
  /** Deletes in the foreground: the Job stays (with a deletionTimestamp) until its pods are gone. */
  deleteJob(ref: ObjectRef, options?: CallOptions): Promise<void>;
  getCronJob(ref: ObjectRef, options?: CallOptions): Promise<V1CronJob>;
  patchCronJob(ref: ObjectRef, patch: Patch, options?: CallOptions): Promise<V1CronJob>;

  createEvent(namespace: string, event: CoreV1Event, options?: CallOptions): Promise<CoreV1Event>;
  patchEvent(ref: ObjectRef, patch: Patch, options?: CallOptions): Promise<CoreV1Event>;

  createService(namespace: string, service: V1Service, options?: CallOptions): Promise<V1Service>;
  deleteService(ref: ObjectRef, options?: CallOptions): Promise<void>;
  /**
   * GET `path` (starting with `/`, query included) from port `port` (its name) of a Service through
   * the apiserver's service proxy (`/api/v1/namespaces/<ns>/services/<name>:<port>/proxy<path>`).
   * Resolves with whatever answered, any status; rejects only when no answer came (network, abort).
   */
  proxyServiceGet(
    ref: ObjectRef,
    port: string,
    path: string,
    options?: CallOptions,
  ): Promise<ProxiedResponse>;

  getLease(ref: ObjectRef, options?: CallOptions): Promise<V1Lease>;
  createLease(namespace: string, lease: V1Lease, options?: CallOptions): Promise<V1Lease>;
  updateLease(ref: ObjectRef, lease: V1Lease, options?: CallOptions): Promise<V1Lease>;
}

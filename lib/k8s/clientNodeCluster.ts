import {
  AppsV1Api,
  BatchV1Api,
  type ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  type CoreV1Event,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  RequestContext,
  setHeaderOptions,
  type V1Deployment,
  type V1Job,
  type V1Lease,
  type V1Scale,
  type V1Service,
  type V1Status,
  Watch,
} from '@kubernetes/client-node';
import { type CallSettings, defaultCallSettings } from './call.ts';
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
} from './clusterClient.ts';
import type { ObjectRef } from './objectRef.ts';

/** Hands the caller's abort signal to the generated client's request. */
function signalMiddleware(signal: AbortSignal): ObservableMiddleware {
  return {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

const configuration = (options: CallOptions | undefined): ConfigurationOptions =>
  options?.signal === undefined
    ? {}
    : { middleware: [signalMiddleware(options.signal)], middlewareMergeStrategy: 'append' };

const contentTypes = {
  json: PatchStrategy.JsonPatch,
  merge: PatchStrategy.MergePatch,
  strategic: PatchStrategy.StrategicMergePatch,
} as const;

const patchBody = (patch: Patch): object => (patch.type === 'json' ? patch.operations : patch.document);
const patchOptions = (patch: Patch, options: CallOptions | undefined): ConfigurationOptions =>
  setHeaderOptions('Content-Type', contentTypes[patch.type], configuration(options));

/** Query parameters of the generated list calls, from ours. */
const listParams = (query: ListQuery) => ({
  ...(query.labelSelector === undefined ? {} : { labelSelector: query.labelSelector }),
  ...(query.fieldSelector === undefined ? {} : { fieldSelector: query.fieldSelector }),
  ...(query.limit === undefined ? {} : { limit: query.limit }),
  ...(query.continue === undefined ? {} : { _continue: query.continue }),
});

/** Where a resource lives in the API, for watches. */
const apiPaths: { readonly [R in ListedResource]: { readonly prefix: string; readonly plural: R } } = {
  deployments: { prefix: '/apis/apps/v1', plural: 'deployments' },
  replicasets: { prefix: '/apis/apps/v1', plural: 'replicasets' },
  pods: { prefix: '/api/v1', plural: 'pods' },
  jobs: { prefix: '/apis/batch/v1', plural: 'jobs' },
};

/** The URL path of a resource's collection, in one namespace or all. */
export function collectionPath(resource: ListedResource, namespace: string | undefined): string {
  const { prefix, plural } = apiPaths[resource];
  return namespace === undefined
    ? `${prefix}/${plural}`
    : `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

const isObjectEvent = (type: string): type is 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' =>
  type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' || type === 'BOOKMARK';

type Listers = {
  readonly [R in ListedResource]: (query: ListQuery, options: ConfigurationOptions) => Promise<ListOf<R>>;
};

/**
 * {@link ClusterClient} over @kubernetes/client-node's generated API and its Watch (the only place in
 * lib/ that uses the generated API classes).
 */
export class ClientNodeCluster implements ClusterClient {
  readonly calls: CallSettings;
  readonly #kubeConfig: KubeConfig;
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #batch: BatchV1Api;
  readonly #coordination: CoordinationV1Api;
  readonly #listers: Listers;

  constructor(kubeConfig: KubeConfig, calls: CallSettings) {
    this.calls = calls;
    this.#kubeConfig = kubeConfig;
    this.#apps = kubeConfig.makeApiClient(AppsV1Api);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#batch = kubeConfig.makeApiClient(BatchV1Api);
    this.#coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    const apps = this.#apps;
    const core = this.#core;
    const batch = this.#batch;
    this.#listers = {
      deployments: (q, o) =>
        q.namespace === undefined
          ? apps.listDeploymentForAllNamespaces(listParams(q), o)
          : apps.listNamespacedDeployment({ namespace: q.namespace, ...listParams(q) }, o),
      replicasets: (q, o) =>
        q.namespace === undefined
          ? apps.listReplicaSetForAllNamespaces(listParams(q), o)
          : apps.listNamespacedReplicaSet({ namespace: q.namespace, ...listParams(q) }, o),
      pods: (q, o) =>
        q.namespace === undefined
          ? core.listPodForAllNamespaces(listParams(q), o)
          : core.listNamespacedPod({ namespace: q.namespace, ...listParams(q) }, o),
      jobs: (q, o) =>
        q.namespace === undefined
          ? batch.listJobForAllNamespaces(listParams(q), o)
          : batch.listNamespacedJob({ namespace: q.namespace, ...listParams(q) }, o),
    };
  }

  list<R extends ListedResource>(resource: R, query: ListQuery, options?: CallOptions): Promise<ListOf<R>> {
    const lister: Listers[R] = this.#listers[resource];
    return lister(query, configuration(options));
  }

  async watch<R extends ListedResource>(
    resource: R,
    query: WatchQuery,
    onEvent: (event: WatchEvent<ObjectOf<R>>) => void,
    onDone: (error?: unknown) => void,
  ): Promise<WatchHandle> {
    let stopped = false;
    const params = {
      ...(query.labelSelector === undefined ? {} : { labelSelector: query.labelSelector }),
      ...(query.fieldSelector === undefined ? {} : { fieldSelector: query.fieldSelector }),
      ...(query.resourceVersion === undefined ? {} : { resourceVersion: query.resourceVersion }),
      ...(query.timeoutSeconds === undefined ? {} : { timeoutSeconds: query.timeoutSeconds }),
      allowWatchBookmarks: false,
    };
    const controller = await new Watch(this.#kubeConfig).watch(
      collectionPath(resource, query.namespace),
      params,
      // Watch hands over the object and the whole event line; ERROR events carry a Status, not an object.
      (type: string, object: ObjectOf<R>, line: { readonly object: V1Status }) => {
        if (stopped) return;
        if (isObjectEvent(type)) onEvent({ type, object });
        else if (type === 'ERROR') onEvent({ type, object: line.object });
      },
      (error: unknown) => {
        if (stopped) return;
        stopped = true;
        onDone(error ?? undefined);
      },
    );
    return {
      stop: () => {
        stopped = true;
        controller.abort();
      },
    };
  }

  getNamespace(name: string, options?: CallOptions) {
    return this.#core.readNamespace({ name }, configuration(options));
  }

  getDeployment(ref: ObjectRef, options?: CallOptions) {
    return this.#apps.readNamespacedDeployment(ref, configuration(options));
  }

  createDeployment(namespace: string, deployment: V1Deployment, options?: CallOptions) {
    return this.#apps.createNamespacedDeployment({ namespace, body: deployment }, configuration(options));
  }

  async deleteDeployment(ref: ObjectRef, options?: CallOptions): Promise<void> {
    await this.#apps.deleteNamespacedDeployment(
      { ...ref, propagationPolicy: 'Background' },
      configuration(options),
    );
  }

  patchDeployment(ref: ObjectRef, patch: Patch, options?: CallOptions) {
    return this.#apps.patchNamespacedDeployment(
      { ...ref, body: patchBody(patch) },
      patchOptions(patch, options),
    );
  }

  getDeploymentScale(ref: ObjectRef, options?: CallOptions) {
    return this.#apps.readNamespacedDeploymentScale(ref, configuration(options));
  }

  updateDeploymentScale(ref: ObjectRef, scale: V1Scale, options?: CallOptions) {
    return this.#apps.replaceNamespacedDeploymentScale({ ...ref, body: scale }, configuration(options));
  }

  getPodLog(ref: ObjectRef, tailLines: number, options?: CallOptions) {
    return this.#core.readNamespacedPodLog({ ...ref, tailLines }, configuration(options));
  }

  createEvent(namespace: string, event: CoreV1Event, options?: CallOptions) {
    return this.#core.createNamespacedEvent({ namespace, body: event }, configuration(options));
  }

  patchEvent(ref: ObjectRef, patch: Patch, options?: CallOptions) {
    return this.#core.patchNamespacedEvent({ ...ref, body: patchBody(patch) }, patchOptions(patch, options));
  }

  createJob(namespace: string, job: V1Job, options?: CallOptions) {
    return this.#batch.createNamespacedJob({ namespace, body: job }, configuration(options));
  }

  async deleteJob(ref: ObjectRef, options?: CallOptions): Promise<void> {
    await this.#batch.deleteNamespacedJob(
      { ...ref, propagationPolicy: 'Foreground' },
      configuration(options),
    );
  }

  getCronJob(ref: ObjectRef, options?: CallOptions) {
    return this.#batch.readNamespacedCronJob(ref, configuration(options));
  }

  patchCronJob(ref: ObjectRef, patch: Patch, options?: CallOptions) {
    return this.#batch.patchNamespacedCronJob(
      { ...ref, body: patchBody(patch) },
      patchOptions(patch, options),
    );
  }

  createService(namespace: string, service: V1Service, options?: CallOptions) {
    return this.#core.createNamespacedService({ namespace, body: service }, configuration(options));
  }

  async deleteService(ref: ObjectRef, options?: CallOptions): Promise<void> {
    await this.#core.deleteNamespacedService(ref, configuration(options));
  }

  /**
   * Sent by hand rather than through the generated connectGetNamespacedServiceProxyWithPath: that one
   * URL-encodes the path's slashes, drops the query and throws away the body of a non-2xx answer,
   * which is exactly what a smoke check must report. Authentication and TLS are the KubeConfig's.
   */
  async proxyServiceGet(
    ref: ObjectRef,
    port: string,
    path: string,
    options?: CallOptions,
  ): Promise<ProxiedResponse> {
    const server = this.#kubeConfig.getCurrentCluster()?.server ?? '';
    const service = `${encodeURIComponent(ref.name)}:${encodeURIComponent(port)}`;
    const url = `${server}/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/services/${service}/proxy${path}`;
    const request = new RequestContext(url, HttpMethod.GET);
    if (options?.signal !== undefined) request.setSignal(options.signal);
    await this.#kubeConfig.applySecurityAuthentication(request);
    const response = await new IsomorphicFetchHttpLibrary().send(request).toPromise();
    return {
      status: response.httpStatusCode,
      contentType: response.headers['content-type'],
      body: await response.body.text(),
    };
  }

  getLease(ref: ObjectRef, options?: CallOptions) {
    return this.#coordination.readNamespacedLease(ref, configuration(options));
  }

  createLease(namespace: string, lease: V1Lease, options?: CallOptions) {
    return this.#coordination.createNamespacedLease({ namespace, body: lease }, configuration(options));
  }

  updateLease(ref: ObjectRef, lease: V1Lease, options?: CallOptions) {
    return this.#coordination.replaceNamespacedLease({ ...ref, body: lease }, configuration(options));
  }
}

/**
 * The {@link ClusterClient} of a KubeConfig; `calls` overrides individual call settings (e.g. a
 * clock in tests). `connectCluster` builds the KubeConfig for EKS or from a kubeconfig file.
 */
export function createClusterClient(
  kubeConfig: KubeConfig,
  calls: Partial<CallSettings> = {},
): ClusterClient {
  return new ClientNodeCluster(kubeConfig, { ...defaultCallSettings, ...calls });
}

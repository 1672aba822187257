import type { CoreV1Event } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import type { K8sOperation } from './errors.ts';
import type { ObjectRef } from './objectRef.ts';

const op = (verb: string, namespace: string, name: string): K8sOperation => ({
  verb,
  resource: 'events',
  namespace,
  name,
  // A create repeated after a lost answer would fail AlreadyExists; a count patch repeated is harmless.
  idempotent: verb === 'patch',
});

/** Creates a core/v1 Event (the API `kubectl describe` lists under Events). */
export function createEvent(
  cluster: ClusterClient,
  namespace: string,
  event: CoreV1Event,
): Promise<CoreV1Event> {
  return callK8s(cluster.calls, op('create', namespace, event.metadata?.name ?? ''), (options) =>
    cluster.createEvent(namespace, event, options),
  );
}

/** What a repeat of an Event changes on it, as client-go's event recorder patches it. */
export interface EventRepeat {
  readonly count: number;
  readonly lastTimestamp: Date;
  readonly message: string;
}

/** Records repeats of an Event on the object itself (count and last time). Throws NotFoundError once it expired. */
export function patchEventRepeat(
  cluster: ClusterClient,
  ref: ObjectRef,
  repeat: EventRepeat,
): Promise<CoreV1Event> {
  return callK8s(cluster.calls, op('patch', ref.namespace, ref.name), (options) =>
    cluster.patchEvent(
      ref,
      {
        type: 'merge',
        document: {
          count: repeat.count,
          lastTimestamp: repeat.lastTimestamp.toISOString(),
          message: repeat.message,
        },
      },
      options,
    ),
  );
}

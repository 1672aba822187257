import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { callK8s } from './call.ts';
import type { ClusterClient } from './clusterClient.ts';
import { ConflictError, type K8sOperation, LeaseHeldError, NotFoundError } from './errors.ts';
import type { ObjectRef } from './objectRef.ts';

/** Who wants a coordination.k8s.io Lease, and for how long each renewal holds it. */
export interface LeaseClaim extends ObjectRef {
  readonly holder: string;
  readonly durationSeconds: number;
}

/** A Lease as read. */
export interface LeaseState {
  readonly holder: string | undefined;
  readonly acquiredAt: Date | undefined;
  readonly renewedAt: Date | undefined;
  readonly durationSeconds: number | undefined;
  readonly transitions: number;
  readonly resourceVersion: string;
}

export interface LeaseAcquisition {
  readonly acquired: boolean;
  readonly lease: LeaseState;
}

const op = (verb: string, ref: ObjectRef, idempotent = true): K8sOperation => ({
  verb,
  resource: 'leases.coordination.k8s.io',
  namespace: ref.namespace,
  name: ref.name,
  idempotent,
});

// MicroTime fields come back as strings at runtime even though the generated type says Date.
const asDate = (value: unknown): Date | undefined =>
  value === undefined || value === null ? undefined : new Date(String(value));

function toState(lease: V1Lease): LeaseState {
  return {
    holder: lease.spec?.holderIdentity === '' ? undefined : lease.spec?.holderIdentity,
    acquiredAt: asDate(lease.spec?.acquireTime),
    renewedAt: asDate(lease.spec?.renewTime),
    durationSeconds: lease.spec?.leaseDurationSeconds,
    transitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}

/** Whether a lease's holder let it lapse (no renewal within its duration) at `now`. */
export function leaseExpired(lease: LeaseState, now: Date): boolean {
  if (lease.holder === undefined) return true;
  if (lease.renewedAt === undefined || lease.durationSeconds === undefined) return true;
  return lease.renewedAt.getTime() + lease.durationSeconds * 1000 <= now.getTime();
}

/** Reads a Lease as it is stored. Throws NotFoundError when there is none. */
export const readLease = (cluster: ClusterClient, ref: ObjectRef): Promise<V1Lease> =>
  callK8s(cluster.calls, op('get', ref), (options) => cluster.getLease(ref, options));

/** Replaces a Lease; the body's resourceVersion makes it conditional (ConflictError when stale). */
export const replaceLease = (cluster: ClusterClient, ref: ObjectRef, body: V1Lease): Promise<V1Lease> =>
  callK8s(cluster.calls, op('update', ref), (options) => cluster.updateLease(ref, body, options));

const withSpec = (lease: V1Lease, spec: V1Lease['spec']): V1Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: {
    name: lease.metadata?.name,
    namespace: lease.metadata?.namespace,
    resourceVersion: lease.metadata?.resourceVersion,
    labels: lease.metadata?.labels,
    annotations: lease.metadata?.annotations,
  },
  spec,
});

/** Creates the Lease held by the claimant (the first acquisition ever). */
async function createHeldLease(
  cluster: ClusterClient,
  claim: LeaseClaim,
  now: Date,
): Promise<LeaseAcquisition> {
  const created = await callK8s(cluster.calls, op('create', claim, false), (options) =>
    cluster.createLease(
      claim.namespace,
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: claim.name, namespace: claim.namespace },
        spec: {
          holderIdentity: claim.holder,
          leaseDurationSeconds: claim.durationSeconds,
          acquireTime: new V1MicroTime(now),
          renewTime: new V1MicroTime(now),
          leaseTransitions: 0,
        },
      },
      options,
    ),
  );
  return { acquired: true, lease: toState(created) };
}

/** Takes (or renews) an existing Lease unless someone else holds it and has not let it lapse. */
async function takeLease(
  cluster: ClusterClient,
  claim: LeaseClaim,
  lease: V1Lease,
  now: Date,
): Promise<LeaseAcquisition> {
  const state = toState(lease);
  if (state.holder !== undefined && state.holder !== claim.holder && !leaseExpired(state, now)) {
    return { acquired: false, lease: state };
  }
  const takingOver = state.holder !== claim.holder;
  const updated = await replaceLease(
    cluster,
    claim,
    withSpec(lease, {
      holderIdentity: claim.holder,
      leaseDurationSeconds: claim.durationSeconds,
      acquireTime: takingOver ? new V1MicroTime(now) : lease.spec?.acquireTime,
      renewTime: new V1MicroTime(now),
      leaseTransitions: state.transitions + (takingOver && state.holder !== undefined ? 1 : 0),
    }),
  );
  return { acquired: true, lease: toState(updated) };
}

/** The Lease, or undefined when there is none yet. */
async function findLease(cluster: ClusterClient, ref: ObjectRef): Promise<V1Lease | undefined> {
  try {
    return await readLease(cluster, ref);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * Takes the lease if it is free, expired or already ours (then renews it); reports
 * `acquired: false` while someone else holds it. Every write is preconditioned on the
 * resourceVersion read, so two contenders never both win.
 *
 * @example const { acquired } = await acquireLease(cluster, { namespace, name: 'rollout-shop-a', holder: jobId, durationSeconds: 900 })
 */
export async function acquireLease(
  cluster: ClusterClient,
  claim: LeaseClaim,
  maxConflicts = 5,
): Promise<LeaseAcquisition> {
  for (let conflicts = 0; ; conflicts++) {
    const now = new Date(cluster.calls.now());
    try {
      const lease = await findLease(cluster, claim);
      return lease === undefined
        ? await createHeldLease(cluster, claim, now)
        : await takeLease(cluster, claim, lease, now);
    } catch (error) {
      // AlreadyExists (lost the create race) is a ConflictError too, like a lost update race: read again.
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}

/** Extends our hold on the lease. Throws LeaseHeldError when someone else holds it now. */
export async function renewLease(
  cluster: ClusterClient,
  claim: LeaseClaim,
  maxConflicts = 5,
): Promise<LeaseState> {
  for (let conflicts = 0; ; conflicts++) {
    const lease = await readLease(cluster, claim);
    const state = toState(lease);
    if (state.holder !== claim.holder) throw new LeaseHeldError(op('update', claim), state.holder);
    try {
      const updated = await replaceLease(
        cluster,
        claim,
        withSpec(lease, {
          ...lease.spec,
          leaseDurationSeconds: claim.durationSeconds,
          renewTime: new V1MicroTime(new Date(cluster.calls.now())),
        }),
      );
      return toState(updated);
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}

/** How `releaseLease` writes. */
export interface ReleaseOptions {
  /** Changes the Lease's annotations in the same write (e.g. to record what the holder did). */
  readonly annotate?: (annotations: Readonly<Record<string, string>>) => Record<string, string>;
  readonly maxConflicts?: number;
}

/**
 * Gives the lease up if we hold it, in one preconditioned write that can also change its
 * annotations. Returns false when it was not ours (or is gone); nothing is written then.
 */
export async function releaseLease(
  cluster: ClusterClient,
  claim: LeaseClaim,
  options: ReleaseOptions = {},
): Promise<boolean> {
  const maxConflicts = options.maxConflicts ?? 5;
  for (let conflicts = 0; ; conflicts++) {
    const lease = await findLease(cluster, claim);
    if (lease === undefined || toState(lease).holder !== claim.holder) return false;
    const annotations = options.annotate?.(lease.metadata?.annotations ?? {}) ?? lease.metadata?.annotations;
    const released = withSpec(lease, {
      leaseDurationSeconds: lease.spec?.leaseDurationSeconds,
      leaseTransitions: lease.spec?.leaseTransitions,
    });
    try {
      await replaceLease(cluster, claim, { ...released, metadata: { ...released.metadata, annotations } });
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}

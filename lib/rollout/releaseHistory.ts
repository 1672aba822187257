import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { ConflictError, LeaseHeldError, NotFoundError } from '../k8s/errors.ts';
import { type LeaseClaim, readLease, replaceLease } from '../k8s/leases.ts';
import type { ObjectRef } from '../k8s/objectRef.ts';

/**
 * Annotation on the shop's Lease listing the releases that reached a verdict, newest first, as
 * JSON `[[release, outcome], …]`. Job ids are UUIDs, so the release annotations on the targets
 * cannot tell an older release from a newer one; this list can.
 */
export const finishedReleasesAnnotation = 'rollout.m2-eks-pipeline.io/finished-releases';

/**
 * How a release ended. `abandoned`: CodePipeline stopped waiting for it (Stop and abandon, a timeout)
 * while it was running; the Lease was released and what it had patched was left as it was.
 */
export type ReleaseOutcome = 'succeeded' | 'failed' | 'abandoned';

const outcomes: ReadonlySet<string> = new Set<ReleaseOutcome>(['succeeded', 'failed', 'abandoned']);

/**
 * Annotation on the shop's Lease naming the last hand-over: `<release> <job id>`, the job whose
 * continuation token is the only one a continuation of that release may carry. Written in the same
 * write that renews the Lease before the token is sent, so an older token of the release (a Lambda
 * retry replaying an earlier event) is recognised as replayed.
 */
export const handOverAnnotation = 'rollout.m2-eks-pipeline.io/handed-over';

const withHandOver = (
  annotations: Readonly<Record<string, string>>,
  release: string,
  jobId: string | undefined,
): Record<string, string> => {
  const { [handOverAnnotation]: _, ...others } = annotations;
  return jobId === undefined ? others : { ...others, [handOverAnnotation]: `${release} ${jobId}` };
};

/** What the shop's Lease records about one release. */
export interface ReleaseRecord {
  readonly outcome: ReleaseOutcome | undefined;
  /** The job of the release's last hand-over, if it handed over at all. */
  readonly handedOverBy: string | undefined;
}

const handedOverBy = (raw: string | undefined, release: string): string | undefined => {
  const [recorded, job, ...rest] = (raw ?? '').split(' ');
  return recorded === release && job !== undefined && job !== '' && rest.length === 0 ? job : undefined;
};

/** One entry of the finished-releases list. */
export type FinishedRelease = readonly [release: string, outcome: ReleaseOutcome];

/** How many verdicts the Lease remembers: far more than Lambda's redelivery window can span. */
const rememberedReleases = 50;

/** Parses the annotation; a missing or damaged one is an empty list (nothing is known finished). */
export function parseFinishedReleases(raw: string | undefined): FinishedRelease[] {
  if (raw === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // Damaged by hand: treat as unknown rather than fail every rollout of the shop.
    return [];
  }
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown): FinishedRelease[] =>
    Array.isArray(entry) &&
    typeof entry[0] === 'string' &&
    typeof entry[1] === 'string' &&
    outcomes.has(entry[1])
      ? [[entry[0], entry[1] as ReleaseOutcome]]
      : [],
  );
}

/** The list with `release` moved to the front with `outcome`, at most `max` entries. */
export function withFinishedRelease(
  list: readonly FinishedRelease[],
  release: string,
  outcome: ReleaseOutcome,
  max = rememberedReleases,
): FinishedRelease[] {
  return [[release, outcome] as const, ...list.filter(([r]) => r !== release)].slice(0, max);
}

/** The verdict recorded for `release`, if it has one. */
export const finishedOutcome = (
  list: readonly FinishedRelease[],
  release: string,
): ReleaseOutcome | undefined => list.find(([r]) => r === release)?.[1];

/**
 * What the shop's Lease records for `release`: its verdict and its last hand-over; neither when
 * there is none (or there is no Lease yet).
 */
export async function readReleaseRecord(
  cluster: ClusterClient,
  lease: ObjectRef,
  release: string,
): Promise<ReleaseRecord> {
  try {
    const annotations = (await readLease(cluster, lease)).metadata?.annotations ?? {};
    return {
      outcome: finishedOutcome(parseFinishedReleases(annotations[finishedReleasesAnnotation]), release),
      handedOverBy: handedOverBy(annotations[handOverAnnotation], release),
    };
  } catch (error) {
    if (error instanceof NotFoundError) return { outcome: undefined, handedOverBy: undefined };
    throw error;
  }
}

/**
 * Renews the Lease we hold and records `jobId` as the release's last hand-over (undefined: none), in
 * one preconditioned write (re-read on conflict). Throws LeaseHeldError when the Lease is not ours.
 */
export async function recordHandOver(
  cluster: ClusterClient,
  claim: LeaseClaim,
  jobId: string | undefined,
  maxConflicts = 5,
): Promise<void> {
  for (let conflicts = 0; ; conflicts++) {
    const object = await readLease(cluster, claim);
    if (object.spec?.holderIdentity !== claim.holder) {
      throw new LeaseHeldError(
        {
          verb: 'update',
          resource: 'leases.coordination.k8s.io',
          namespace: claim.namespace,
          name: claim.name,
          idempotent: true,
        },
        object.spec?.holderIdentity,
      );
    }
    const body: V1Lease = {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: withHandOver(object.metadata?.annotations ?? {}, claim.holder, jobId),
      },
      spec: {
        ...object.spec,
        leaseDurationSeconds: claim.durationSeconds,
        renewTime: new V1MicroTime(new Date(cluster.calls.now())),
      },
    };
    try {
      await replaceLease(cluster, claim, body);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}

/** The annotations with `release` and its verdict added to the finished-releases list. */
export const withVerdict =
  (release: string, outcome: ReleaseOutcome) =>
  (annotations: Readonly<Record<string, string>>): Record<string, string> => ({
    ...annotations,
    [finishedReleasesAnnotation]: JSON.stringify(
      withFinishedRelease(parseFinishedReleases(annotations[finishedReleasesAnnotation]), release, outcome),
    ),
  });

/**
 * Adds `release` with its verdict to the shop Lease's finished-releases list (an update carrying the
 * resourceVersion read; re-read on conflict). The Lease's spec (holder, times) is left as it is, and
 * acquire/renew keep annotations. A holder that is done records its verdict with `releaseLease`'s
 * `annotate` instead, in the same write that gives the Lease up.
 */
export async function recordReleaseOutcome(
  cluster: ClusterClient,
  lease: ObjectRef,
  release: string,
  outcome: ReleaseOutcome,
  maxConflicts = 5,
): Promise<void> {
  for (let conflicts = 0; ; conflicts++) {
    const object = await readLease(cluster, lease);
    const body: V1Lease = {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: withVerdict(release, outcome)(object.metadata?.annotations ?? {}),
      },
    };
    try {
      await replaceLease(cluster, lease, body);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || conflicts >= maxConflicts) throw error;
    }
  }
}

import type { V1Lease } from '@kubernetes/client-node';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { ConflictError, NotFoundError } from '../k8s/errors.ts';
import { readLease, replaceLease } from '../k8s/leases.ts';
import type { ObjectRef } from '../k8s/objectRef.ts';

/**
 * Annotation on the shop's Lease listing the releases that reached a verdict, newest first, as
 * JSON `[[release, outcome], …]`. Job ids are UUIDs, so the release annotations on the targets
 * cannot tell an older release from a newer one; this list can.
 */
export const finishedReleasesAnnotation = 'rollout.m2-eks-pipeline.io/finished-releases';

/** How a release ended. */
export type ReleaseOutcome = 'succeeded' | 'failed';

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
    (entry[1] === 'succeeded' || entry[1] === 'failed')
      ? [[entry[0], entry[1]]]
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
 * The verdict the shop's Lease records for `release`; undefined when it has none (or there is no
 * Lease yet).
 */
export async function readReleaseOutcome(
  cluster: ClusterClient,
  lease: ObjectRef,
  release: string,
): Promise<ReleaseOutcome | undefined> {
  try {
    const object = await readLease(cluster, lease);
    return finishedOutcome(
      parseFinishedReleases(object.metadata?.annotations?.[finishedReleasesAnnotation]),
      release,
    );
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
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

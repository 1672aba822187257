import type { V1CronJob, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ClusterClient, JsonPatchOperation } from '../k8s/clusterClient.ts';
import { jsonPatchCronJob, readCronJob } from '../k8s/cronJobs.ts';
import { jsonPatchDeployment, listNamespacedDeployments, readDeployment } from '../k8s/deployments.ts';
import { ConflictError, InvalidError } from '../k8s/errors.ts';
import { annotationPath, containerImageOperations } from '../k8s/jsonPatch.ts';
import type { TargetRef } from './continuationToken.ts';
import { RolloutError } from './errors.ts';
import {
  type ContainerImages,
  containerLists,
  parseRecord,
  parseTemplateRecord,
  type RecordedImages,
} from './recordedImages.ts';

/** Annotations the rollout writes on its targets (Deployments and CronJobs). */
export const rolloutAnnotations = {
  /**
   * JSON `{ release, initContainers, containers }`: the image each container of the shop's
   * repository ran before this release, by container name — what its rollback restores.
   */
  recorded: 'rollout.m2-eks-pipeline.io/recorded-images',
  /**
   * The record of releases made before images were recorded: JSON `{ release, template }`, the whole
   * pod template. Still read (its images only), so a release recorded that way rolls back.
   */
  recordedTemplate: 'rollout.m2-eks-pipeline.io/recorded-template',
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

const templatePath = (ref: TargetRef): string =>
  ref.kind === 'Deployment' ? '/spec/template' : '/spec/jobTemplate/spec/template';

/** `namespace/kind/name`, for logs and messages. */
export const targetName = (namespace: string, ref: TargetRef): string =>
  `${namespace}/${ref.kind === 'Deployment' ? 'deployment' : 'cronjob'}/${ref.name}`;

/** A target's snapshot from the object as read (or as an informer cached it). */
export function targetSnapshot(ref: TargetRef, object: V1Deployment | V1CronJob): TargetSnapshot {
  const template =
    object.spec !== undefined && 'template' in object.spec
      ? object.spec.template
      : object.spec !== undefined && 'jobTemplate' in object.spec
        ? (object.spec.jobTemplate.spec?.template ?? {})
        : {};
  return {
    ref,
    resourceVersion: object.metadata?.resourceVersion ?? '',
    template,
    annotations: object.metadata?.annotations ?? {},
    hasAnnotations: object.metadata?.annotations !== undefined,
  };
}

/** Reads a Deployment or CronJob target. Throws NotFoundError when it does not exist. */
export async function readTarget(
  cluster: ClusterClient,
  namespace: string,
  ref: TargetRef,
): Promise<TargetSnapshot> {
  const at = { namespace, name: ref.name };
  const object =
    ref.kind === 'Deployment' ? await readDeployment(cluster, at) : await readCronJob(cluster, at);
  return targetSnapshot(ref, object);
}

/**
 * The images a release recorded on the target before changing them, if one did: from the
 * recorded-images annotation, else derived (the containers of `repository`) from the whole template a
 * release recorded before images were.
 */
export function recordedImages(snapshot: TargetSnapshot, repository: string): RecordedImages | undefined {
  return (
    parseRecord(snapshot.annotations[rolloutAnnotations.recorded]) ??
    parseTemplateRecord(snapshot.annotations[rolloutAnnotations.recordedTemplate], repository)
  );
}

/**
 * What one write changes, and what it is conditional on. Nothing else of the object is sent: the
 * apiserver applies the operations to the object as it is then, so fields this client does not know
 * and others' edits elsewhere in the template stay.
 */
export interface TargetWrite {
  /** Annotations to set. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Annotations to remove (each present in the snapshot). */
  readonly removeAnnotations?: readonly string[];
  /**
   * New images by container name: each replaces the image read, behind `test`s on the container's
   * name at its index and on that image (see `containerImageOperations`).
   */
  readonly images?: ContainerImages;
  /** Annotation values the decision rested on: tested to be present with exactly these values. */
  readonly expectAnnotations?: Readonly<Record<string, string>>;
  /**
   * `object`: also carry the resourceVersion read, so any change since the read answers 409 — for a
   * decision that rests on more than the paths it tests (an annotation that may be absent, the set of
   * the shop's containers). `tested-paths`: only the `test`s guard it, so the controller's status
   * updates and edits elsewhere do not stop it.
   */
  readonly condition: 'object' | 'tested-paths';
}

/**
 * The RFC 6902 operations of a write on the snapshot: preconditions first (resourceVersion, tested
 * annotations, each changed container's name and image), then the changes.
 */
export function targetPatch(snapshot: TargetSnapshot, write: TargetWrite): JsonPatchOperation[] {
  const spec = snapshot.template.spec;
  const images = write.images ?? { initContainers: {}, containers: {} };
  const imageOperations = containerLists.flatMap((list) =>
    Object.entries(images[list]).flatMap(([name, image]) => {
      const index = (spec?.[list] ?? []).findIndex((c) => c.name === name);
      const from = spec?.[list]?.[index]?.image;
      if (from === undefined) {
        throw new RolloutError(`${snapshot.ref.name} has no ${list} entry ${name} with an image to replace`);
      }
      return containerImageOperations(`${templatePath(snapshot.ref)}/spec/${list}`, index, name, from, image);
    }),
  );
  return [
    ...(write.condition === 'object'
      ? [{ op: 'add' as const, path: '/metadata/resourceVersion', value: snapshot.resourceVersion }]
      : []),
    ...Object.entries(write.expectAnnotations ?? {}).map(([key, value]) => ({
      op: 'test' as const,
      path: annotationPath(key),
      value,
    })),
    ...imageOperations,
    ...(snapshot.hasAnnotations ? [] : [{ op: 'add' as const, path: '/metadata/annotations', value: {} }]),
    ...Object.entries(write.annotations ?? {}).map(([key, value]) => ({
      op: 'add' as const,
      path: annotationPath(key),
      value,
    })),
    ...(write.removeAnnotations ?? []).map((key) => ({ op: 'remove' as const, path: annotationPath(key) })),
  ];
}

/**
 * Reads, decides and writes (a JSON patch, `targetPatch`); when the write loses a race — 409 on the
 * resourceVersion, or 422 on a failed `test` (someone changed a tested path since the read) — reads
 * again and decides again, so a decision never rests on a stale read. `decide` returns undefined
 * when nothing needs writing. Returns the snapshot the last decision was made on.
 */
export async function updateTarget(
  cluster: ClusterClient,
  namespace: string,
  ref: TargetRef,
  decide: (snapshot: TargetSnapshot) => TargetWrite | undefined,
  maxConflicts = 5,
): Promise<TargetSnapshot> {
  const at = { namespace, name: ref.name };
  for (let conflicts = 0; ; conflicts++) {
    const snapshot = await readTarget(cluster, namespace, ref);
    const write = decide(snapshot);
    if (write === undefined) return snapshot;
    const operations = targetPatch(snapshot, write);
    try {
      if (ref.kind === 'Deployment') await jsonPatchDeployment(cluster, at, operations);
      else await jsonPatchCronJob(cluster, at, operations);
      return snapshot;
    } catch (error) {
      // A 422 for any other reason is answered the same after every re-read, and ends the loop.
      const raced =
        error instanceof ConflictError ||
        (error instanceof InvalidError && operations.some((o) => o.op === 'test'));
      if (!raced || conflicts >= maxConflicts) throw error;
    }
  }
}

/** Consumer Deployments of a shop: labelled `app.kubernetes.io/component=consumer`. */
export async function listConsumerDeployments(cluster: ClusterClient, namespace: string): Promise<string[]> {
  const deployments = await listNamespacedDeployments(
    cluster,
    namespace,
    'app.kubernetes.io/component=consumer',
  );
  return deployments
    .map((d) => d.metadata?.name ?? '')
    .filter((n) => n !== '')
    .sort();
}

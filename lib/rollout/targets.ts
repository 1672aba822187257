import type { V1CronJob, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ClusterClient, JsonPatchOperation } from '../k8s/clusterClient.ts';
import { jsonPatchCronJob, readCronJob } from '../k8s/cronJobs.ts';
import { jsonPatchDeployment, listNamespacedDeployments, readDeployment } from '../k8s/deployments.ts';
import { ConflictError } from '../k8s/errors.ts';
import { annotationPath } from '../k8s/jsonPatch.ts';
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
async function writeTarget(
  cluster: ClusterClient,
  namespace: string,
  snapshot: TargetSnapshot,
  write: TargetWrite,
): Promise<void> {
  const body: JsonPatchOperation[] = [
    { op: 'add', path: '/metadata/resourceVersion', value: snapshot.resourceVersion },
    ...(snapshot.hasAnnotations ? [] : [{ op: 'add' as const, path: '/metadata/annotations', value: {} }]),
    ...Object.entries(write.annotations ?? {}).map(([key, value]) => ({
      op: 'add' as const,
      path: annotationPath(key),
      value,
    })),
    ...(write.template === undefined
      ? []
      : [{ op: 'replace' as const, path: templatePath(snapshot.ref), value: write.template }]),
  ];
  const at = { namespace, name: snapshot.ref.name };
  if (snapshot.ref.kind === 'Deployment') await jsonPatchDeployment(cluster, at, body);
  else await jsonPatchCronJob(cluster, at, body);
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

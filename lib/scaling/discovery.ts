import type { ClusterClient } from '../k8s/clusterClient.ts';
import { listDeploymentsByLabel } from '../k8s/deployments.ts';
import { metricNames } from '../observability/metricNames.ts';
import type { Log, MetricSink } from '../observability/telemetry.ts';
import { targetAnnotations } from './annotations.ts';
import { DiscoveryError } from './errors.ts';
import type { EventRecorder } from './eventRecorder.ts';
import { parseScalingTarget, type ScalingTarget, type TargetParse } from './target.ts';

/**
 * Finds the scaling targets in every namespace by label. A Deployment with a malformed
 * annotation is skipped with a log line and a Warning Event `AnnotationInvalid` on it, both naming
 * the annotation; a paused one (`paused: "true"`) is skipped with a Normal Event `Paused` naming the
 * key, so `kubectl describe` says why a consumer with a backlog does not scale; the rest are returned.
 */
export async function discoverTargets(
  cluster: ClusterClient,
  selector: string,
  telemetry: { readonly log: Log; readonly metrics: MetricSink; readonly events: EventRecorder },
): Promise<ScalingTarget[]> {
  let deployments: Awaited<ReturnType<typeof listDeploymentsByLabel>>;
  try {
    deployments = await listDeploymentsByLabel(cluster, selector);
  } catch (error) {
    throw new DiscoveryError(`listing Deployments labelled ${selector} failed`, { cause: error });
  }
  const targets: ScalingTarget[] = [];
  for (const deployment of deployments) {
    const parsed = parseScalingTarget(deployment);
    if (parsed.kind === 'target') {
      targets.push(parsed.target);
    } else if (parsed.kind === 'held-by-rollout') {
      await tellHeld(cluster, parsed, telemetry);
    } else if (parsed.kind === 'paused') {
      telemetry.log.info('scaling target paused', {
        namespace: parsed.ref.namespace,
        deployment: parsed.ref.name,
        annotation: targetAnnotations.paused,
      });
      await telemetry.events.record(
        cluster,
        { ...parsed.ref, ...(parsed.uid === undefined ? {} : { uid: parsed.uid }) },
        {
          type: 'Normal',
          reason: 'Paused',
          message: `annotation ${targetAnnotations.paused} is "true": not scaled until it is removed`,
        },
        telemetry.log,
      );
    } else {
      telemetry.log.warn('scaling target skipped: malformed annotation', {
        namespace: parsed.ref.namespace,
        deployment: parsed.ref.name,
        annotation: parsed.error.annotation,
        problem: parsed.error.message,
      });
      telemetry.metrics.count(metricNames.consumerScaler.targetsSkipped, 1, { reason: 'invalid-annotation' });
      await telemetry.events.record(
        cluster,
        { ...parsed.ref, ...(parsed.uid === undefined ? {} : { uid: parsed.uid }) },
        {
          type: 'Warning',
          reason: 'AnnotationInvalid',
          message: `annotation ${parsed.error.annotation} ${parsed.error.problem}; not scaled until it is fixed`,
        },
        telemetry.log,
      );
    }
  }
  return targets;
}

/**
 * A target the rollout holds for its quiet migration window: not scaled, and said so on the
 * Deployment (a Normal Event `PausedByRollout` naming the release), so an operator who sees a
 * consumer at 0 with a backlog knows why and whose window it is.
 */
async function tellHeld(
  cluster: ClusterClient,
  held: Extract<TargetParse, { kind: 'held-by-rollout' }>,
  telemetry: { readonly log: Log; readonly events: EventRecorder },
): Promise<void> {
  telemetry.log.info('scaling target held by a rollout', {
    namespace: held.ref.namespace,
    deployment: held.ref.name,
    release: held.release,
    replicas: held.replicas,
  });
  await telemetry.events.record(
    cluster,
    { ...held.ref, ...(held.uid === undefined ? {} : { uid: held.uid }) },
    {
      type: 'Normal',
      reason: 'PausedByRollout',
      message: `paused by rollout ${held.release}: replicas held at ${held.replicas} during its migration window`,
    },
    telemetry.log,
  );
}

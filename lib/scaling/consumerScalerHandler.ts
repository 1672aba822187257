import { setTimeout as sleep } from 'node:timers/promises';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ClusterClient } from '../k8s/clusterClient.ts';
import { type Telemetry, telemetryPorts } from '../observability/telemetry.ts';
import { telemetryMiddlewares } from '../observability/telemetryMiddlewares.ts';
import { ReconcileIncompleteError } from './errors.ts';
import { EventRecorder } from './eventRecorder.ts';
import type { QueueSignals } from './queueSignals.ts';
import { type RunResult, type RunSettings, runScaler } from './runScaler.ts';
import { parseScalerTrigger } from './trigger.ts';

export interface ConsumerScalerHandlerDeps {
  readonly run: RunSettings;
  /** The cluster of this Lambda container, connected on first use (`sharedClusterClient`). */
  readonly cluster: () => Promise<ClusterClient>;
  readonly signals: QueueSignals;
  readonly telemetry: Telemetry;
  /** Aggregates the Deployments' Events across the invocations of this container; one per handler by default. */
  readonly events?: EventRecorder;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What an invocation returns: how often it reconciled, why it stopped, and the replica changes. */
export interface ScalerReport {
  readonly passes: number;
  readonly stoppedBecause: RunResult['stoppedBecause'];
  readonly targets: number;
  readonly changes: RunResult['changes'];
}

/**
 * The consumerScaler Lambda handler: SQS depth alarm (EventBridge) or the 1-minute schedule →
 * reconcile every consumer Deployment labelled as a scaling target, repeatedly while queues are
 * busy and the invocation has time. Throws {@link ReconcileIncompleteError} naming the targets
 * that could not be reconciled (their neighbours were), so the failure shows on the function's
 * error metric.
 *
 * @example export const handler = createConsumerScalerHandler({ run, cluster: sharedClusterClient, signals, telemetry: lambdaTelemetry })
 */
export function createConsumerScalerHandler(deps: ConsumerScalerHandlerDeps) {
  const ports = telemetryPorts(deps.telemetry);
  const events = deps.events ?? new EventRecorder(deps.now === undefined ? {} : { now: deps.now });
  return middy(async (event: unknown, context: Context): Promise<ScalerReport> => {
    const trigger = parseScalerTrigger(event);
    ports.log.info('reconcile triggered', { ...trigger });
    const result = await runScaler(deps.run, {
      ...ports,
      cluster: await deps.cluster(),
      signals: deps.signals,
      events,
      now: deps.now ?? Date.now,
      remainingMs: () => context.getRemainingTimeInMillis(),
      sleep: deps.sleep ?? sleep,
    });
    if (result.failures.length > 0) throw new ReconcileIncompleteError(result.failures);
    return {
      passes: result.passes,
      stoppedBecause: result.stoppedBecause,
      targets: result.last.targets,
      changes: result.changes,
    };
  }).use(telemetryMiddlewares(deps.telemetry));
}

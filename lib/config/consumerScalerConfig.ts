import { z } from 'zod';
import { targetSelector } from '../scaling/annotations.ts';
import { defaultPolicySettings } from '../scaling/policy.ts';
import type { RunSettings } from '../scaling/runScaler.ts';
import { intVar, parseEnv } from './env.ts';
import { ConflictingVariablesError } from './errors.ts';

const boolVar = (fallback: boolean) =>
  z
    .enum(['true', 'false'], { message: 'must be "true" or "false"' })
    .transform((v) => v === 'true')
    .default(fallback);

const schema = z.object({
  SCALER_TARGET_SELECTOR: z.string().min(1).default(targetSelector),
  SCALER_INTERVAL_SECONDS: intVar(10, 1, 60),
  /** No pass or idle read starts later than this into an invocation (the schedule runs every 60 s). */
  SCALER_MAX_RUN_SECONDS: intVar(58, 0, 900),
  SCALER_PASS_BUDGET_SECONDS: intVar(10, 1, 60),
  SCALER_SCALE_DOWN_WINDOW_SECONDS: intVar(defaultPolicySettings.scaleDownWindowSeconds, 0, 3600),
  SCALER_CONFIRM_READS: intVar(defaultPolicySettings.confirmReads, 1, 10),
  SCALER_READ_SPACING_SECONDS: intVar(defaultPolicySettings.readSpacingSeconds, 0, 60),
  /** 0 = straight to the target. */
  SCALER_MAX_SURGE: intVar(0, 0, 1000),
  SCALER_INCLUDE_DELAYED: boolVar(defaultPolicySettings.includeDelayed),
  /** Changes within this percentage of the current replicas are ignored (HPA: 10). */
  SCALER_TOLERANCE_PERCENT: intVar(defaultPolicySettings.tolerance * 100, 0, 50),
  /** The arrival-rate floor provisions for this utilization. */
  SCALER_FLOOR_UTILIZATION_PERCENT: intVar(defaultPolicySettings.floorUtilization * 100, 10, 100),
  /** Zero only after this long of empty readings (SQS's counts settle within about a minute). */
  SCALER_ZERO_SETTLE_SECONDS: intVar(defaultPolicySettings.zeroSettleSeconds, 0, 3600),
  /** Read NumberOfMessagesSent from CloudWatch for the arrival-rate floor. */
  SCALER_ARRIVAL_METRICS: boolVar(true),
  /**
   * Seconds between the idle watch's depth reads while every target is settled; 0 = stop at the
   * first settled pass (a burst on an idle shop then waits for the next schedule).
   */
  SCALER_IDLE_POLL_SECONDS: intVar(3, 0, 60),
  /** Replaced by SCALER_IDLE_POLL_SECONDS: refused, so a deployment that set it learns what it now gets. */
  SCALER_POLL_WHEN_IDLE: z
    .undefined({
      message: 'replaced by SCALER_IDLE_POLL_SECONDS (seconds between idle depth reads, default 3; 0 = off)',
    })
    .optional(),
});

export interface ConsumerScalerConfig {
  readonly run: RunSettings;
  readonly arrivalMetrics: boolean;
}

/** consumerScaler's configuration, parsed once from the environment; throws ConfigError naming the variable. */
export function loadConsumerScalerConfig(
  env: Record<string, string | undefined> = process.env,
): ConsumerScalerConfig {
  const e = parseEnv(schema, env);
  if (e.SCALER_READ_SPACING_SECONDS >= e.SCALER_INTERVAL_SECONDS) {
    // Otherwise the passes of one invocation would never count as separate readings.
    throw new ConflictingVariablesError(
      ['SCALER_READ_SPACING_SECONDS', 'SCALER_INTERVAL_SECONDS'],
      'SCALER_READ_SPACING_SECONDS must be below SCALER_INTERVAL_SECONDS',
    );
  }
  return Object.freeze({
    arrivalMetrics: e.SCALER_ARRIVAL_METRICS,
    run: Object.freeze({
      selector: e.SCALER_TARGET_SELECTOR,
      intervalMs: e.SCALER_INTERVAL_SECONDS * 1000,
      passBudgetMs: e.SCALER_PASS_BUDGET_SECONDS * 1000,
      maxRunMs: e.SCALER_MAX_RUN_SECONDS * 1000,
      idlePollMs: e.SCALER_IDLE_POLL_SECONDS * 1000,
      policy: Object.freeze({
        includeDelayed: e.SCALER_INCLUDE_DELAYED,
        scaleDownWindowSeconds: e.SCALER_SCALE_DOWN_WINDOW_SECONDS,
        confirmReads: e.SCALER_CONFIRM_READS,
        readSpacingSeconds: e.SCALER_READ_SPACING_SECONDS,
        tolerance: e.SCALER_TOLERANCE_PERCENT / 100,
        floorUtilization: e.SCALER_FLOOR_UTILIZATION_PERCENT / 100,
        zeroSettleSeconds: e.SCALER_ZERO_SETTLE_SECONDS,
        ...(e.SCALER_MAX_SURGE === 0 ? {} : { maxSurge: e.SCALER_MAX_SURGE }),
      }),
    }),
  });
}

import { z } from 'zod';
import { UnknownTriggerError } from './errors.ts';

/** Why this invocation runs: an SQS depth alarm changed state, or the 1-minute backstop schedule. */
export type ScalerTrigger =
  | { readonly kind: 'alarm'; readonly alarmName: string; readonly state: string }
  | { readonly kind: 'schedule'; readonly rule: string };

const alarmEvent = z.object({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.string().min(1) }),
  }),
});

const scheduledEvent = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  resources: z.array(z.string()).default([]),
});

/**
 * Recognises the two EventBridge events the function is wired to. Both lead to the same
 * reconcile of all targets (the alarm is only a wake-up); the result is for logging.
 * Anything else throws {@link UnknownTriggerError}.
 */
export function parseScalerTrigger(event: unknown): ScalerTrigger {
  const alarm = alarmEvent.safeParse(event);
  if (alarm.success) {
    return { kind: 'alarm', alarmName: alarm.data.detail.alarmName, state: alarm.data.detail.state.value };
  }
  const scheduled = scheduledEvent.safeParse(event);
  if (scheduled.success) {
    const rule = scheduled.data.resources[0]?.split('/').at(-1) ?? 'unknown';
    return { kind: 'schedule', rule };
  }
  const detailType = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
  throw new UnknownTriggerError(typeof detailType === 'string' ? detailType : undefined);
}

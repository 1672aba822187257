import type { V1Deployment } from '@kubernetes/client-node';
import type { ObjectRef } from '../k8s/objectRef.ts';
import { targetAnnotations } from './annotations.ts';
import { TargetAnnotationError } from './errors.ts';

/** What one consumer Deployment declares about its own scaling. */
export interface ScalingBounds {
  /** Backlog one pod should hold: desired = ceil(backlog / messagesPerPod). */
  readonly messagesPerPod: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Quiet time (no backlog, no arrivals) before scaling to zero. */
  readonly cooldownSeconds: number;
  /** Typical processing time of one message, for the arrival-rate (Little's law) floor. */
  readonly secondsPerMessage?: number;
}

/** A consumer Deployment the scaler manages, parsed from its labels and annotations. */
export interface ScalingTarget extends ObjectRef {
  readonly queueUrl: string;
  readonly bounds: ScalingBounds;
}

/** The result of reading one labelled Deployment. */
export type TargetParse =
  | { readonly kind: 'target'; readonly target: ScalingTarget }
  | { readonly kind: 'paused'; readonly ref: ObjectRef }
  | { readonly kind: 'invalid'; readonly ref: ObjectRef; readonly error: TargetAnnotationError };

const wholeNumber = /^\d{1,9}$/;
const decimal = /^\d{1,9}(\.\d{1,6})?$/;
// https://sqs.<region>.amazonaws.com/<account>/<name>, or any endpoint (moto) with /<account>/<name>.
const queuePath = /^\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/**
 * Reads a Deployment's scaling annotations strictly: every value must be well-formed and
 * consistent (min ≤ max, max ≥ 1), otherwise the target is reported invalid with the annotation's
 * name. `paused: "true"` opts the Deployment out.
 *
 * @example parseScalingTarget(deployment) // { kind: 'target', target: { namespace, name, queueUrl, bounds } }
 */
export function parseScalingTarget(deployment: V1Deployment): TargetParse {
  const ref = { namespace: deployment.metadata?.namespace ?? '', name: deployment.metadata?.name ?? '' };
  const annotations = deployment.metadata?.annotations ?? {};
  const fail = (key: string, problem: string): TargetParse => ({
    kind: 'invalid',
    ref,
    error: new TargetAnnotationError(ref.namespace, ref.name, key, problem),
  });

  const paused = annotations[targetAnnotations.paused];
  if (paused !== undefined && paused !== 'true' && paused !== 'false') {
    return fail(targetAnnotations.paused, `must be "true" or "false", not "${paused}"`);
  }
  if (paused === 'true') return { kind: 'paused', ref };

  const queueUrl = annotations[targetAnnotations.queueUrl];
  if (queueUrl === undefined) return fail(targetAnnotations.queueUrl, 'is missing');
  if (!isQueueUrl(queueUrl)) return fail(targetAnnotations.queueUrl, 'is not an SQS queue URL');

  const ints: Record<'messagesPerPod' | 'minReplicas' | 'maxReplicas' | 'cooldownSeconds', number> = {
    messagesPerPod: 0,
    minReplicas: 0,
    maxReplicas: 0,
    cooldownSeconds: 0,
  };
  for (const field of Object.keys(ints) as (keyof typeof ints)[]) {
    const key = targetAnnotations[field];
    const raw = annotations[key];
    if (raw === undefined) return fail(key, 'is missing');
    if (!wholeNumber.test(raw)) return fail(key, `must be a whole number, not "${raw}"`);
    ints[field] = Number(raw);
  }
  if (ints.messagesPerPod < 1) return fail(targetAnnotations.messagesPerPod, 'must be at least 1');
  if (ints.maxReplicas < 1) return fail(targetAnnotations.maxReplicas, 'must be at least 1');
  if (ints.minReplicas > ints.maxReplicas) {
    return fail(
      targetAnnotations.minReplicas,
      `(${ints.minReplicas}) exceeds max-replicas (${ints.maxReplicas})`,
    );
  }

  const spmRaw = annotations[targetAnnotations.secondsPerMessage];
  let secondsPerMessage: number | undefined;
  if (spmRaw !== undefined) {
    if (!decimal.test(spmRaw) || Number(spmRaw) <= 0) {
      return fail(targetAnnotations.secondsPerMessage, `must be a number > 0, not "${spmRaw}"`);
    }
    secondsPerMessage = Number(spmRaw);
  }

  return {
    kind: 'target',
    target: {
      ...ref,
      queueUrl,
      bounds: Object.freeze({
        ...ints,
        ...(secondsPerMessage === undefined ? {} : { secondsPerMessage }),
      }),
    },
  };
}

function isQueueUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    queuePath.test(url.pathname) &&
    url.search === ''
  );
}

/** The queue's name, the last path segment of its URL (CloudWatch's QueueName dimension). */
export function queueNameOf(queueUrl: string): string {
  return new URL(queueUrl).pathname.split('/').at(-1) ?? '';
}

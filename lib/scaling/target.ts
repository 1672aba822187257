import type { V1Deployment } from '@kubernetes/client-node';
import type { ObjectRef } from '../k8s/objectRef.ts';
import { pausedByRolloutAnnotation, targetAnnotations } from './annotations.ts';
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
  /**
   * The wait SLO: no message should wait longer than this many seconds (needs secondsPerMessage,
   * the throughput it sizes with).
   */
  readonly maxWaitSeconds?: number;
  /** Undefined: an unreadable queue holds the current replicas, however long it stays unreadable. */
  readonly fallback?: Fallback;
}

/**
 * KEDA's `fallback`, as a floor: once the queue has been unreadable for `afterReads` consecutive
 * readings, hold at least `replicas` (never fewer than run now — a scale-down needs a reading).
 */
interface Fallback {
  readonly replicas: number;
  readonly afterReads: number;
}

/** Readings before the fallback applies when `fallback-after-reads` is not given (KEDA's usual failureThreshold). */
const defaultFallbackAfterReads = 3;
/** Upper bounds of the declared numbers: beyond them a value is a typo, not a plan. */
const annotationLimits = Object.freeze({
  maxReplicas: 1000,
  cooldownSeconds: 86_400,
  fallbackAfterReads: 100,
  maxWaitSeconds: 86_400,
  priority: 1000,
});

/** A consumer Deployment the scaler manages, parsed from its labels and annotations. */
export interface ScalingTarget extends ObjectRef {
  /** The Deployment's uid, so its Events show under `kubectl describe deployment`. */
  readonly uid?: string;
  readonly queueUrl: string;
  readonly bounds: ScalingBounds;
  /** Its rank for the namespace's consumer pod budget: higher is served first; undefined = 0. */
  readonly priority?: number;
}

/** The result of reading one labelled Deployment; `uid` is the Deployment's, for its Events. */
export type TargetParse =
  | { readonly kind: 'target'; readonly target: ScalingTarget }
  /** `paused: "true"`: the operator opted it out. */
  | { readonly kind: 'paused'; readonly ref: ObjectRef; readonly uid?: string }
  /** The rollout's quiet migration window: replicas stay where the rollout put them until it ends. */
  | {
      readonly kind: 'held-by-rollout';
      readonly ref: ObjectRef;
      readonly uid?: string;
      readonly release: string;
      readonly replicas: number;
    }
  | {
      readonly kind: 'invalid';
      readonly ref: ObjectRef;
      readonly uid?: string;
      readonly error: TargetAnnotationError;
    };

const wholeNumber = /^\d{1,9}$/;
const decimal = /^\d{1,9}(\.\d{1,6})?$/;
// https://sqs.<region>.amazonaws.com/<account>/<name>, or any endpoint (moto) with /<account>/<name>.
const queuePath = /^\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/** One annotation that failed its check, and how. */
interface AnnotationProblem {
  readonly annotation: string;
  readonly problem: string;
}

type Annotations = Readonly<Record<string, string>>;
type Checked<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & AnnotationProblem);

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const refuse = (annotation: string, problem: string): { ok: false } & AnnotationProblem => ({
  ok: false,
  annotation,
  problem,
});

/**
 * Reads a Deployment's scaling annotations strictly: every value must be well-formed and
 * consistent (min ≤ max, max ≥ 1), otherwise the target is reported invalid with the annotation's
 * name. `paused: "true"` opts the Deployment out.
 *
 * @example parseScalingTarget(deployment) // { kind: 'target', target: { namespace, name, queueUrl, bounds } }
 */
export function parseScalingTarget(deployment: V1Deployment): TargetParse {
  const ref = { namespace: deployment.metadata?.namespace ?? '', name: deployment.metadata?.name ?? '' };
  const uid = deployment.metadata?.uid;
  // The uid only when known (exactOptionalPropertyTypes): every parse carries it for the Events.
  const withUid = uid === undefined ? {} : { uid };
  const annotations = deployment.metadata?.annotations ?? {};
  const invalid = ({ annotation, problem }: AnnotationProblem): TargetParse => ({
    kind: 'invalid',
    ref,
    ...withUid,
    error: new TargetAnnotationError(ref.namespace, ref.name, annotation, problem),
  });

  // Before any other check: a window the rollout holds is honoured even on a malformed target.
  const release = annotations[pausedByRolloutAnnotation];
  if (release !== undefined && release !== '') {
    return {
      kind: 'held-by-rollout',
      ref,
      ...withUid,
      release,
      replicas: deployment.spec?.replicas ?? 1,
    };
  }
  const paused = pausedOf(annotations);
  if (!paused.ok) return invalid(paused);
  if (paused.value) return { kind: 'paused', ref, ...withUid };
  const queueUrl = queueUrlOf(annotations);
  if (!queueUrl.ok) return invalid(queueUrl);
  const bounds = boundsOf(annotations);
  if (!bounds.ok) return invalid(bounds);
  const priority = priorityOf(annotations);
  if (!priority.ok) return invalid(priority);
  return {
    kind: 'target',
    target: {
      ...ref,
      ...withUid,
      queueUrl: queueUrl.value,
      bounds: bounds.value,
      ...(priority.value === undefined ? {} : { priority: priority.value }),
    },
  };
}

function pausedOf(annotations: Annotations): Checked<boolean> {
  const paused = annotations[targetAnnotations.paused];
  if (paused !== undefined && paused !== 'true' && paused !== 'false') {
    return refuse(targetAnnotations.paused, `must be "true" or "false", not "${paused}"`);
  }
  return ok(paused === 'true');
}

function priorityOf(annotations: Annotations): Checked<number | undefined> {
  const raw = annotations[targetAnnotations.priority];
  if (raw === undefined) return ok(undefined);
  if (!wholeNumber.test(raw) || Number(raw) > annotationLimits.priority) {
    return refuse(
      targetAnnotations.priority,
      `must be a whole number from 0 to ${annotationLimits.priority}, not "${raw}"`,
    );
  }
  return ok(Number(raw));
}

function queueUrlOf(annotations: Annotations): Checked<string> {
  const queueUrl = annotations[targetAnnotations.queueUrl];
  if (queueUrl === undefined) return refuse(targetAnnotations.queueUrl, 'is missing');
  if (!isQueueUrl(queueUrl)) return refuse(targetAnnotations.queueUrl, 'is not an SQS queue URL');
  return ok(queueUrl);
}

type WholeNumberField = 'messagesPerPod' | 'minReplicas' | 'maxReplicas' | 'cooldownSeconds';
const wholeNumberFields: readonly WholeNumberField[] = [
  'messagesPerPod',
  'minReplicas',
  'maxReplicas',
  'cooldownSeconds',
];

/** The required whole-number annotations, checked in a fixed order so the first problem is reported. */
function wholeNumbersOf(annotations: Annotations): Checked<Record<WholeNumberField, number>> {
  const values: Record<WholeNumberField, number> = {
    messagesPerPod: 0,
    minReplicas: 0,
    maxReplicas: 0,
    cooldownSeconds: 0,
  };
  for (const field of wholeNumberFields) {
    const key = targetAnnotations[field];
    const raw = annotations[key];
    if (raw === undefined) return refuse(key, 'is missing');
    if (!wholeNumber.test(raw)) return refuse(key, `must be a whole number, not "${raw}"`);
    values[field] = Number(raw);
  }
  return ok(values);
}

function secondsPerMessageOf(annotations: Annotations): Checked<number | undefined> {
  const raw = annotations[targetAnnotations.secondsPerMessage];
  if (raw === undefined) return ok(undefined);
  if (!decimal.test(raw) || Number(raw) <= 0) {
    return refuse(targetAnnotations.secondsPerMessage, `must be a number > 0, not "${raw}"`);
  }
  return ok(Number(raw));
}

function boundsOf(annotations: Annotations): Checked<ScalingBounds> {
  const ints = wholeNumbersOf(annotations);
  if (!ints.ok) return ints;
  const { messagesPerPod, minReplicas, maxReplicas } = ints.value;
  if (messagesPerPod < 1) return refuse(targetAnnotations.messagesPerPod, 'must be at least 1');
  if (maxReplicas < 1) return refuse(targetAnnotations.maxReplicas, 'must be at least 1');
  const range = rangesOf(ints.value);
  if (!range.ok) return range;
  if (minReplicas > maxReplicas) {
    return refuse(targetAnnotations.minReplicas, `(${minReplicas}) exceeds max-replicas (${maxReplicas})`);
  }
  const secondsPerMessage = secondsPerMessageOf(annotations);
  if (!secondsPerMessage.ok) return secondsPerMessage;
  const fallback = fallbackOf(annotations, minReplicas, maxReplicas);
  if (!fallback.ok) return fallback;
  const maxWaitSeconds = maxWaitSecondsOf(annotations, secondsPerMessage.value);
  if (!maxWaitSeconds.ok) return maxWaitSeconds;
  return ok(
    Object.freeze({
      ...ints.value,
      ...(secondsPerMessage.value === undefined ? {} : { secondsPerMessage: secondsPerMessage.value }),
      ...(maxWaitSeconds.value === undefined ? {} : { maxWaitSeconds: maxWaitSeconds.value }),
      ...(fallback.value === undefined ? {} : { fallback: fallback.value }),
    }),
  );
}

/**
 * The optional wait SLO: whole seconds up to a day, above seconds-per-message (an SLO shorter than
 * one message cannot be met by any number of pods), and only with it — the SLO sizes by throughput.
 */
function maxWaitSecondsOf(
  annotations: Annotations,
  secondsPerMessage: number | undefined,
): Checked<number | undefined> {
  const key = targetAnnotations.maxWaitSeconds;
  const raw = annotations[key];
  if (raw === undefined) return ok(undefined);
  const seconds = Number(raw);
  if (!wholeNumber.test(raw) || seconds < 1 || seconds > annotationLimits.maxWaitSeconds) {
    return refuse(key, `must be a whole number from 1 to ${annotationLimits.maxWaitSeconds}, not "${raw}"`);
  }
  if (secondsPerMessage === undefined) return refuse(key, `needs ${targetAnnotations.secondsPerMessage}`);
  if (seconds <= secondsPerMessage) {
    return refuse(key, `(${seconds}) must exceed seconds-per-message (${secondsPerMessage})`);
  }
  return ok(seconds);
}

/** The upper bounds of {@link annotationLimits}. */
function rangesOf(values: Record<WholeNumberField, number>): Checked<true> {
  if (values.maxReplicas > annotationLimits.maxReplicas) {
    return refuse(
      targetAnnotations.maxReplicas,
      `(${values.maxReplicas}) exceeds ${annotationLimits.maxReplicas}`,
    );
  }
  if (values.cooldownSeconds > annotationLimits.cooldownSeconds) {
    return refuse(
      targetAnnotations.cooldownSeconds,
      `(${values.cooldownSeconds}) exceeds ${annotationLimits.cooldownSeconds} (a day)`,
    );
  }
  return ok(true);
}

/** The optional fallback floor: within [min, max]; `fallback-after-reads` only with it. */
function fallbackOf(
  annotations: Annotations,
  minReplicas: number,
  maxReplicas: number,
): Checked<Fallback | undefined> {
  const rawReplicas = annotations[targetAnnotations.fallbackReplicas];
  const rawAfter = annotations[targetAnnotations.fallbackAfterReads];
  if (rawReplicas === undefined) {
    return rawAfter === undefined
      ? ok(undefined)
      : refuse(targetAnnotations.fallbackAfterReads, `needs ${targetAnnotations.fallbackReplicas}`);
  }
  if (!wholeNumber.test(rawReplicas)) {
    return refuse(targetAnnotations.fallbackReplicas, `must be a whole number, not "${rawReplicas}"`);
  }
  const replicas = Number(rawReplicas);
  if (replicas < minReplicas || replicas > maxReplicas) {
    return refuse(
      targetAnnotations.fallbackReplicas,
      `(${replicas}) is outside min-replicas..max-replicas (${minReplicas}..${maxReplicas})`,
    );
  }
  if (rawAfter === undefined) return ok({ replicas, afterReads: defaultFallbackAfterReads });
  const afterReads = Number(rawAfter);
  if (!wholeNumber.test(rawAfter) || afterReads < 1 || afterReads > annotationLimits.fallbackAfterReads) {
    return refuse(
      targetAnnotations.fallbackAfterReads,
      `must be a whole number from 1 to ${annotationLimits.fallbackAfterReads}, not "${rawAfter}"`,
    );
  }
  return ok({ replicas, afterReads });
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

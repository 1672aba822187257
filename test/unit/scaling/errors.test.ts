import { describe, expect, it } from 'vitest';
import {
  DiscoveryError,
  QueueReadError,
  ReconcileIncompleteError,
  ScalingError,
  TargetAnnotationError,
  TooManyConflictsError,
  UnknownTriggerError,
} from '../../../lib/scaling/errors.ts';

const cause = new Error('Throttling');
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/shop-a-product-updates';

describe('scaling errors', () => {
  it.each<[string, () => ScalingError, Record<string, unknown>]>([
    [
      'TargetAnnotationError',
      () =>
        new TargetAnnotationError(
          'shop-a',
          'consumer',
          'scaling.m2-eks-pipeline.io/min-replicas',
          'is missing',
        ),
      { namespace: 'shop-a', deployment: 'consumer', annotation: 'scaling.m2-eks-pipeline.io/min-replicas' },
    ],
    [
      'QueueReadError',
      () => new QueueReadError(queueUrl, 'throttled', { cause }),
      {
        queueUrl,
        failure: 'throttled',
        cause,
        message: `reading the depth of ${queueUrl} failed (throttled)`,
      },
    ],
    [
      'QueueReadError',
      () => new QueueReadError(queueUrl, 'unavailable', { detail: 'ApproximateNumberOfMessages is missing' }),
      {
        message: `reading the depth of ${queueUrl} failed (unavailable): ApproximateNumberOfMessages is missing`,
      },
    ],
    ['DiscoveryError', () => new DiscoveryError('listing failed', { cause }), { cause }],
    [
      'ReconcileIncompleteError',
      () =>
        new ReconcileIncompleteError([
          { namespace: 'shop-a', deployment: 'consumer', error: 'ConflictError: x' },
        ]),
      { failures: [{ namespace: 'shop-a', deployment: 'consumer', error: 'ConflictError: x' }] },
    ],
    [
      'TooManyConflictsError',
      () => new TooManyConflictsError({ namespace: 'shop-a', name: 'consumer' }, 9, { cause }),
      {
        namespace: 'shop-a',
        deployment: 'consumer',
        conflicts: 9,
        cause,
        message: 'shop-a/consumer: 9 write conflicts in a row',
      },
    ],
    [
      'UnknownTriggerError',
      () => new UnknownTriggerError('Object Created'),
      { detailType: 'Object Created' },
    ],
  ])('%s extends ScalingError, names itself and carries its context', (name, make, context) => {
    // Act
    const error = make();
    // Assess
    expect(error).toBeInstanceOf(ScalingError);
    expect(error).toMatchObject({ name, ...context });
  });
});

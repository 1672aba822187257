import { describe, expect, it } from 'vitest';
import type { PodHealth } from '../../../lib/k8s/rolloutStatus.ts';
import { podFailure } from '../../../lib/rollout/waitRollout.ts';

const pod = (over: Partial<PodHealth>): PodHealth => ({
  name: 'm2-http-abc',
  phase: 'Running',
  ready: false,
  terminating: false,
  templateHash: 'abc',
  images: [],
  restarts: 0,
  waiting: [],
  lastTerminationReason: undefined,
  ...over,
});

describe('podFailure', () => {
  it.each<[string, Partial<PodHealth>, RegExp | undefined]>([
    [
      'a starting pod',
      { waiting: [{ container: 'php-fpm', reason: 'ContainerCreating', message: undefined }] },
      undefined,
    ],
    [
      'ImagePullBackOff',
      { waiting: [{ container: 'php-fpm', reason: 'ImagePullBackOff', message: 'back-off' }] },
      /ImagePullBackOff \(container php-fpm: back-off\)/,
    ],
    [
      'ErrImagePull',
      { waiting: [{ container: 'nginx', reason: 'ErrImagePull', message: undefined }] },
      /ErrImagePull/,
    ],
    [
      'CrashLoopBackOff',
      { waiting: [{ container: 'nginx', reason: 'CrashLoopBackOff', message: undefined }], restarts: 1 },
      /CrashLoopBackOff/,
    ],
    ['restarts within the allowance', { restarts: 2, ready: true }, undefined],
    [
      'restarts beyond the allowance',
      { restarts: 3, lastTerminationReason: 'OOMKilled' },
      /restarted 3 times \(last: OOMKilled\)/,
    ],
    ['a Running pod that is not Ready yet', {}, undefined],
  ])('%s', (_, over, expected) => {
    const failure = podFailure(pod(over), 2);
    if (expected === undefined) expect(failure).toBeUndefined();
    else expect(failure).toMatch(expected);
  });
});

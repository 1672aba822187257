import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  allRunning,
  containerImagesOf,
  imagesIn,
  parseRecord,
  parseTemplateRecord,
  recordValue,
  sameImages,
} from '../../../lib/rollout/recordedImages.ts';

const template: V1PodTemplateSpec = {
  metadata: { labels: { app: 'web' } },
  spec: {
    initContainers: [{ name: 'warmup', image: 'repo/magento:1' }],
    containers: [
      { name: 'nginx', image: 'repo/magento:1', env: [{ name: 'A', value: '1' }] },
      { name: 'php-fpm', image: 'repo/magento:1' },
      { name: 'fluent-bit', image: 'fluent/fluent-bit:3' },
    ],
  },
};

describe('containerImagesOf', () => {
  it('names the containers of the shop’s repository by list, leaving sidecars of other images out', () => {
    expect(containerImagesOf(template, 'repo/magento')).toEqual({
      initContainers: { warmup: 'repo/magento:1' },
      containers: { nginx: 'repo/magento:1', 'php-fpm': 'repo/magento:1' },
    });
  });

  it('names every container without a repository', () => {
    expect(containerImagesOf(template).containers).toEqual({
      nginx: 'repo/magento:1',
      'php-fpm': 'repo/magento:1',
      'fluent-bit': 'fluent/fluent-bit:3',
    });
  });

  it('lists init containers first', () => {
    const images = { initContainers: { w: 'a:1' }, containers: { n: 'a:2', p: 'a:3' } };
    expect(imagesIn(images)).toEqual(['a:1', 'a:2', 'a:3']);
  });
});

describe('sameImages', () => {
  const a = { initContainers: {}, containers: { nginx: 'r:1', 'php-fpm': 'r:1' } };

  it.each([
    [
      'the same, in another order',
      { initContainers: {}, containers: { 'php-fpm': 'r:1', nginx: 'r:1' } },
      true,
    ],
    ['another image', { initContainers: {}, containers: { nginx: 'r:2', 'php-fpm': 'r:1' } }, false],
    ['a container fewer', { initContainers: {}, containers: { nginx: 'r:1' } }, false],
    ['a container more', { initContainers: {}, containers: { ...a.containers, x: 'r:1' } }, false],
    [
      'the container in the other list',
      { initContainers: { nginx: 'r:1' }, containers: { 'php-fpm': 'r:1' } },
      false,
    ],
  ])('%s → %s', (_case, b, same) => {
    expect(sameImages(a, b)).toBe(same);
    expect(sameImages(b, a)).toBe(same);
  });

  it('sets every container of the set to one image', () => {
    expect(allRunning(a, 'r:2')).toEqual({
      initContainers: {},
      containers: { nginx: 'r:2', 'php-fpm': 'r:2' },
    });
  });
});

describe('the recorded-images annotation', () => {
  it('reads back what it records', () => {
    const images = containerImagesOf(template, 'repo/magento');
    expect(parseRecord(recordValue('r1', images))).toEqual({ release: 'r1', images });
  });

  it('is JSON naming the release and each container’s image, nothing of the template else', () => {
    const value = recordValue('r1', containerImagesOf(template, 'repo/magento'));
    expect(JSON.parse(value)).toEqual({
      release: 'r1',
      initContainers: { warmup: 'repo/magento:1' },
      containers: { nginx: 'repo/magento:1', 'php-fpm': 'repo/magento:1' },
    });
  });

  it.each([
    ['absent', undefined],
    ['not JSON', '{'],
    ['without a release', '{"containers":{}}'],
    ['with an image that is not a string', '{"release":"r1","containers":{"nginx":1}}'],
  ])('counts as none recorded when %s', (_case, raw) => {
    expect(parseRecord(raw)).toBeUndefined();
  });
});

describe('the recorded-template annotation of releases made before images were recorded', () => {
  it('yields the images of the shop’s repository in the recorded template', () => {
    // Prepare: what the earlier code wrote (JSON.stringify({ release, template })).
    const raw = JSON.stringify({ release: 'r0', template });

    // Act
    const recorded = parseTemplateRecord(raw, 'repo/magento');

    // Assess
    expect(recorded).toEqual({
      release: 'r0',
      images: {
        initContainers: { warmup: 'repo/magento:1' },
        containers: { nginx: 'repo/magento:1', 'php-fpm': 'repo/magento:1' },
      },
    });
  });

  it.each([
    ['absent', undefined],
    ['not JSON', 'x'],
    ['without a template', '{"release":"r0"}'],
  ])('counts as none recorded when %s', (_case, raw) => {
    expect(parseTemplateRecord(raw, 'repo/magento')).toBeUndefined();
  });
});

import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { imageRepository, releaseImages, withReleaseImage } from '../../../lib/rollout/imageRef.ts';

describe('imageRepository', () => {
  it.each([
    ['magento:2.4.8', 'magento'],
    ['magento', 'magento'],
    ['registry:5000/magento', 'registry:5000/magento'],
    ['registry:5000/magento:2.4.8', 'registry:5000/magento'],
    ['123.dkr.ecr.us-east-1.amazonaws.com/magento:2.4.8-p1', '123.dkr.ecr.us-east-1.amazonaws.com/magento'],
    [`repo/magento:1@sha256:${'b'.repeat(64)}`, 'repo/magento'],
    [`repo/magento@sha256:${'b'.repeat(64)}`, 'repo/magento'],
  ])('%s → %s', (image, repository) => {
    expect(imageRepository(image)).toBe(repository);
  });
});

describe('withReleaseImage', () => {
  const template: V1PodTemplateSpec = {
    metadata: { labels: { app: 'web' } },
    spec: {
      initContainers: [{ name: 'warmup', image: 'repo/magento:1' }],
      containers: [
        { name: 'nginx', image: 'repo/magento:1' },
        { name: 'php-fpm', image: 'repo/magento:1' },
        { name: 'sidecar', image: 'fluent-bit:3' },
      ],
    },
  };

  it('replaces every container of the release repository and keeps the others', () => {
    const { template: next, matched } = withReleaseImage(template, 'repo/magento', 'repo/magento:2');
    expect(matched).toBe(3);
    expect(releaseImages(next, 'repo/magento')).toEqual([
      'repo/magento:2',
      'repo/magento:2',
      'repo/magento:2',
    ]);
    expect(next.spec?.containers[2]?.image).toBe('fluent-bit:3');
    expect(template.spec?.containers[0]?.image).toBe('repo/magento:1');
  });

  it('matches nothing for another repository', () => {
    expect(withReleaseImage(template, 'other/magento', 'other/magento:2').matched).toBe(0);
  });
});

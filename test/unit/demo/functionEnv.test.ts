import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { functionSettings, resolveServerlessValue } from '../../../scripts/demo/functionEnv.ts';

const env = { MEDIA_BUCKET: 'm2-media-local', EKS_CLUSTER_NAME: 'm2-local' };

describe('functionSettings', () => {
  it('gives imageVariants its serverless.yml environment, timeout and memory', () => {
    // Act
    const settings = functionSettings('imageVariants', env);

    // Assess
    expect(settings.env).toMatchObject({
      MEDIA_BUCKET: 'm2-media-local',
      // Magento's remote storage writes media under `<prefix>media/`; the demo stage has no prefix.
      MEDIA_PREFIX: 'media/',
      MEDIA_ROOTS: 'catalog/product/,catalog/category/,attribute/swatch/,wysiwyg/',
      DERIVED_PREFIX: 'derived/',
      POWERTOOLS_SERVICE_NAME: 'm2-eks-pipeline',
      POWERTOOLS_METRICS_NAMESPACE: 'M2EksPipeline',
    });
    expect(settings.env.EKS_ASSUME_ROLE_ARN).toBeUndefined();
    expect(settings).toMatchObject({ timeoutMs: 120_000, memoryMb: 2048 });
  });

  it.each([
    ['consumerScaler', 'arn:aws:iam::123456789012:role/m2-consumer-scaler', 70_000],
    ['rollout', 'arn:aws:iam::123456789012:role/m2-rollout', 900_000],
  ] as const)('makes %s act as its own role towards EKS', (name, role, timeoutMs) => {
    // Act
    const settings = functionSettings(name, env);

    // Assess
    expect(settings.env).toMatchObject({ EKS_CLUSTER_NAME: 'm2-local', EKS_ASSUME_ROLE_ARN: role });
    expect(settings.timeoutMs).toBe(timeoutMs);
  });

  it('sets every variable serverless.yml declares for each function, resolved', () => {
    // Prepare
    const yml = readFileSync(join(import.meta.dirname, '..', '..', '..', 'serverless.yml'), 'utf8');
    const doc = parse(yml.replaceAll(/!\w+/g, '')) as {
      functions: Record<string, { environment?: Record<string, string> }>;
    };

    // Act / Assess
    for (const name of ['imageVariants', 'imageServe', 'consumerScaler', 'rollout'] as const) {
      const settings = functionSettings(name, env);
      for (const key of Object.keys(doc.functions[name]?.environment ?? {})) {
        expect(settings.env).toHaveProperty(key);
        expect(settings.env[key]).not.toContain('${');
      }
    }
  });

  it('falls back as sls would when MEDIA_BUCKET and EKS_CLUSTER_NAME are not set', () => {
    // Act
    const settings = functionSettings('imageVariants', {});

    // Assess
    expect(settings.env.MEDIA_BUCKET).toBe('m2-eks-pipeline-demo-us-east-1-media');
    expect(functionSettings('rollout', {}).env.EKS_CLUSTER_NAME).toBe('m2');
  });
});

/** A Serverless variable reference, `${ref}` (built so the linter does not take it for a template string). */
const v = (ref: string): string => ['$', '{', ref, '}'].join('');

describe('resolveServerlessValue', () => {
  const doc = { params: { default: { a: `${v('param:b')}-x`, b: v("env:B, 'dflt'") } }, service: 'svc' };

  it.each([
    ['plain', 'plain'],
    [v('param:a'), 'dflt-x'],
    [`${v('self:service')}/${v('sls:stage')}`, 'svc/demo'],
    [v('opt:region, self:service'), 'svc'],
  ])('resolves %s', (value, expected) => {
    // Act / Assess
    expect(resolveServerlessValue(value, doc, {})).toBe(expected);
  });

  it('prefers the environment over a literal fallback', () => {
    // Act / Assess
    expect(resolveServerlessValue(v('param:a'), doc, { B: 'env' })).toBe('env-x');
  });

  it.each([
    [v('ssm:/m2/keys'), /cannot resolve \$\{ssm:\/m2\/keys\}/],
    [v('env:NOPE'), /resolves to nothing/],
  ])('refuses %s', (value, message) => {
    // Act / Assess
    expect(() => resolveServerlessValue(value, doc, {})).toThrow(message);
  });
});

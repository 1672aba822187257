import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeContinuationToken,
  maxContinuationTokenLength,
  type RolloutState,
  signContinuationToken,
  type TargetRef,
  TokenTooLongError,
  verifyContinuationToken,
} from '../../../lib/rollout/continuationToken.ts';
import { ContinuationRefusedError, type TokenRefusal } from '../../../lib/rollout/errors.ts';

const key = Buffer.from('0123456789abcdef0123456789abcdef-rollout', 'utf8');
const binding = {
  pipelineName: 'example-shop-release',
  namespace: 'example-shop',
  userParameters: '{"namespace":"example-shop","imageTag":"2.4.8"}',
};
const jobId = '8e2b1f4c-7d3a-4c5e-9f60-1a2b3c4d5e6f';
const ecr = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/magento';

const state: RolloutState = {
  v: 1,
  release: '4a5b6c7d-0000-4000-8000-123456789abc',
  phase: 'consumers',
  phaseStartedAt: 1_790_000_000_000,
  startedAt: 1_789_999_000_000,
  image: `${ecr}:2.4.8`,
  previousImage: `${ecr}:2.4.7-p3`,
  migrate: true,
  targets: [{ kind: 'Deployment', name: 'm2-http' }],
  patched: [{ kind: 'Deployment', name: 'm2-http' }],
  rolledBack: [],
  notRolledBack: [],
};

/**
 * Magento 2.4's queue consumers (`bin/magento queue:consumers:list` of Open Source with Inventory),
 * as the Deployment names a shop gives them: the ≈ 22 a full shop runs.
 */
const magentoConsumers = [
  'async.operations.all',
  'product_action_attribute.update',
  'product_action_attribute.website.update',
  'catalog_website_attribute_value_sync',
  'media.storage.catalog.image.resize',
  'exportProcessor',
  'inventory.source.items.cleanup',
  'inventory.mass.update',
  'inventory.reservations.cleanup',
  'inventory.reservations.update',
  'inventory.reservations.updateSalabilityStatus',
  'inventory.indexer.sourceItem',
  'inventory.indexer.stock',
  'media.content.synchronization',
  'media.gallery.renditions.update',
  'media.gallery.synchronization',
  'codegeneratorProcessor',
  'sales.rule.update.coupon.usage',
  'sales.rule.quote.trigger.recollect',
  'product_alert',
  'saveConfigProcessor',
  'inventoryQtyCounter',
].map(
  (name): TargetRef => ({
    kind: 'Deployment',
    name: `m2-consumer-${name.replace(/[._]/g, '-').toLowerCase()}`,
  }),
);

const refusalOf = (fn: () => unknown): TokenRefusal | undefined => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContinuationRefusedError) return error.refusal;
    throw error;
  }
  return undefined;
};

describe('continuation token', () => {
  it('round-trips the state and names the job that handed it over', () => {
    // Act
    const verified = verifyContinuationToken(signContinuationToken(state, binding, jobId, key), binding, key);

    // Assess
    expect(verified).toEqual({ state, issuedBy: jobId });
  });

  it('signs with HMAC-SHA256 as openssl computes it over the context line and the body', () => {
    // Prepare
    const token = signContinuationToken(state, binding, jobId, key);
    const [, body, signature] = token.split('.');

    // Act: an independent implementation of the MAC.
    const hex = execFileSync('openssl', ['dgst', '-sha256', '-hmac', key.toString('utf8'), '-hex'], {
      input: `m2-eks-pipeline rollout continuation v2\n${body}`,
    })
      .toString()
      .trim()
      .split(' ')
      .at(-1);

    // Assess
    expect(token.startsWith('2.')).toBe(true);
    expect(Buffer.from(signature ?? '', 'base64url').toString('hex')).toBe(hex);
  });

  it.each([
    [
      'a flipped character of the body',
      (t: string) => `${t.slice(0, 10)}${t[10] === 'A' ? 'B' : 'A'}${t.slice(11)}`,
    ],
    [
      'a flipped character of the signature',
      (t: string) => `${t.slice(0, -2)}${t.at(-2) === 'A' ? 'B' : 'A'}${t.at(-1)}`,
    ],
    ['no signature', (t: string) => `${t.slice(0, t.lastIndexOf('.'))}.`],
  ])('refuses a token with %s as tampered', (_, alter) => {
    const token = signContinuationToken(state, binding, jobId, key);
    expect(refusalOf(() => verifyContinuationToken(alter(token), binding, key))).toBe('tampered');
  });

  it('refuses a token whose image was swapped and re-encoded under the old signature', () => {
    // Prepare: the same body with another image, keeping the signature of the original.
    const original = signContinuationToken(state, binding, jobId, key);
    const forged = signContinuationToken(
      { ...state, image: `${ecr}:evil` },
      binding,
      jobId,
      Buffer.alloc(32, 1),
    );
    const [, forgedBody] = forged.split('.');
    const spliced = `2.${forgedBody}.${original.split('.')[2]}`;

    // Act / Assess
    expect(refusalOf(() => verifyContinuationToken(spliced, binding, key))).toBe('tampered');
  });

  it('refuses a token signed with another key as tampered', () => {
    const token = signContinuationToken(state, binding, jobId, Buffer.alloc(32, 7));
    expect(refusalOf(() => verifyContinuationToken(token, binding, key))).toBe('tampered');
  });

  it.each([
    ['another pipeline', { ...binding, pipelineName: 'other-shop-release' }],
    ['another shop', { ...binding, namespace: 'other-shop' }],
    [
      'a job with other UserParameters',
      { ...binding, userParameters: '{"namespace":"example-shop","imageTag":"2.4.9"}' },
    ],
  ])('refuses a token issued for %s as foreign', (_, other) => {
    const token = signContinuationToken(state, other, jobId, key);
    expect(refusalOf(() => verifyContinuationToken(token, binding, key))).toBe('foreign');
  });

  it.each([
    '',
    'not-a-token',
    // The unsigned format-1 token (base64url JSON) this function wrote before signing.
    Buffer.from(JSON.stringify({ v: 1, r: 'x', p: 'success', t: 0, T: [], P: [] })).toString('base64url'),
    '2.AAAA.BBBB.CCCC',
  ])('refuses the malformed token %j', (token) => {
    expect(refusalOf(() => verifyContinuationToken(token, binding, key))).toBe('malformed');
  });

  it('fits 2048 characters for a shop running all 22 Magento consumers, mid-rollback, with the longest failure', () => {
    // Prepare: every target patched, half rolled back, half given up with reasons, long ECR images.
    const targets = [
      { kind: 'Deployment' as const, name: 'm2-http' },
      ...magentoConsumers,
      { kind: 'CronJob' as const, name: 'm2-cron' },
    ];
    const worst: RolloutState = {
      ...state,
      phase: 'rollback',
      image: `${ecr}:2.4.8-p3-build-20261202.1234@sha256:${'a'.repeat(64)}`,
      previousImage: `${ecr}:2.4.8-p2-build-20261101.0042@sha256:${'b'.repeat(64)}`,
      targets,
      patched: targets,
      rolledBack: targets.slice(12),
      notRolledBack: targets.slice(0, 12).map((ref) => ({
        ref,
        reason:
          `example-shop/deployment/${ref.name}: pod ${ref.name}-7c9d8f6b5-x2k4q CrashLoopBackOff (container php-fpm)`.slice(
            0,
            200,
          ),
      })),
      failure:
        `example-shop/deployment/m2-consumer-export: pod m2-consumer-export-5d8c7b9f4-q7w2e ${'CrashLoopBackOff back-off 40s restarting failed container '.repeat(8)}`.slice(
          0,
          400,
        ),
    };

    // Act
    const token = signContinuationToken(worst, binding, jobId, key);

    // Assess: measured 1,230 characters (the state's JSON is 8,077; deflate, then 43 of signature).
    expect(token.length).toBeLessThanOrEqual(maxContinuationTokenLength);
    expect(verifyContinuationToken(token, binding, key).state).toEqual(worst);
  });

  it('shortens the failure text when the whole state would not fit, and refuses when even that does not', () => {
    // Prepare: target names deflate cannot shrink (hex digests): 48 fit only with a shorter failure, 58 never.
    const targets = (n: number) =>
      Array.from(
        { length: n },
        (_, i): TargetRef => ({
          kind: 'Deployment',
          name: `c-${createHash('sha256').update(String(i)).digest('hex').slice(0, 38)}`,
        }),
      );
    const failure = Array.from({ length: 7 }, (_, i) =>
      createHash('sha512').update(String(i)).digest('base64'),
    )
      .join('')
      .slice(0, 400);
    const many = targets(48);
    const tooMany = targets(58);

    // Act
    const token = signContinuationToken(
      { ...state, targets: many, patched: many, failure },
      binding,
      jobId,
      key,
    );

    // Assess
    expect(token.length).toBeLessThanOrEqual(maxContinuationTokenLength);
    const carried = decodeContinuationToken(token).failure ?? '';
    expect(carried.length).toBeLessThan(failure.length);
    expect(failure.startsWith(carried.slice(0, -1))).toBe(true);
    expect(() =>
      signContinuationToken({ ...state, targets: tooMany, patched: tooMany, failure }, binding, jobId, key),
    ).toThrow(TokenTooLongError);
  });
});

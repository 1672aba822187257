import { describe, expect, it } from 'vitest';
import { decodeEksToken } from '../../../lib/k8s/eksToken.ts';
import { EksTokenProvider } from '../../../lib/k8s/eksTokenProvider.ts';

function fixture(reuseForMs?: number) {
  let now = new Date('2026-11-28T05:00:00Z');
  let credentialLookups = 0;
  const provider = new EksTokenProvider({
    clusterName: 'm2-local',
    region: 'us-east-1',
    stsEndpoint: 'http://127.0.0.1:4566',
    credentials: async () => {
      credentialLookups++;
      return { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    },
    now: () => now,
    ...(reuseForMs === undefined ? {} : { reuseForMs }),
  });
  return {
    provider,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
    credentialLookups: () => credentialLookups,
  };
}

describe('EksTokenProvider', () => {
  it('reuses one token within the reuse window', async () => {
    // Prepare
    const { provider, advance, credentialLookups } = fixture();

    // Act
    const first = await provider.getToken();
    advance(9 * 60_000);
    const second = await provider.getToken();

    // Assess
    expect(second).toBe(first);
    expect(credentialLookups()).toBe(1);
  });

  it('mints a new token once the reuse window has passed, well before the 15-minute expiry', async () => {
    // Prepare
    const { provider, advance } = fixture();
    const first = await provider.getToken();

    // Act
    advance(10 * 60_000);
    const second = await provider.getToken();

    // Assess
    expect(second).not.toBe(first);
    expect(decodeEksToken(second).signedAt.toISOString()).toBe('2026-11-28T05:10:00.000Z');
  });

  it('shares one mint between concurrent callers', async () => {
    const { provider, credentialLookups } = fixture();
    const tokens = await Promise.all([provider.getToken(), provider.getToken(), provider.getToken()]);
    expect(new Set(tokens).size).toBe(1);
    expect(credentialLookups()).toBe(1);
  });

  it('mints again after invalidate()', async () => {
    const { provider, advance } = fixture();
    const first = await provider.getToken();
    advance(1000);
    provider.invalidate();
    expect(await provider.getToken()).not.toBe(first);
  });

  it.each([0, 15 * 60_000])('rejects a reuse window of %i ms', (reuseForMs) => {
    expect(() => fixture(reuseForMs)).toThrow(RangeError);
  });
});

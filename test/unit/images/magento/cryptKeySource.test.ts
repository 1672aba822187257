import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSsmCryptKeySource } from '../../../../lib/images/magento/cryptKeySource.ts';
import { CryptKeyError } from '../../../../lib/images/magento/errors.ts';

const name = '/shop/test/magento/crypt-key';
const value = 'f3a9c0d1e2b4a5968778695a4b3c2d1e\nbase64AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

describe('createSsmCryptKeySource', () => {
  const ssm = mockClient(SSMClient);
  const client = new SSMClient({ region: 'eu-west-1' });
  let clock = 1_000;
  const now = () => clock;

  beforeEach(() => {
    ssm.reset();
    clock = 1_000;
  });

  it('reads the SecureString decrypted and returns the crypt/key value as stored', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: value } });
    const source = createSsmCryptKeySource({ parameterName: name, client, now });

    // Act
    const key = await source.cryptKey();

    // Assess
    expect(key).toBe(value);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: name, WithDecryption: true });
  });

  it('reuses the value until the TTL passes, then reads again', async () => {
    ssm
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: 'old' } })
      .resolves({ Parameter: { Value: 'new' } });
    const source = createSsmCryptKeySource({ parameterName: name, client, now, ttlMs: 60_000 });

    expect(await source.cryptKey()).toBe('old');
    clock += 59_999;
    expect(await source.cryptKey()).toBe('old');
    clock += 1;
    expect(await source.cryptKey()).toBe('new');
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 2);
  });

  it('shares one read between concurrent callers', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: value } });
    const source = createSsmCryptKeySource({ parameterName: name, client, now });

    const keys = await Promise.all([source.cryptKey(), source.cryptKey(), source.cryptKey()]);

    expect(keys).toEqual([value, value, value]);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });

  it('throws a CryptKeyError naming the parameter, with the SDK error as cause, and retries next time', async () => {
    // Prepare
    const missing = new ParameterNotFound({ message: 'not found', $metadata: {} });
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(missing)
      .resolves({ Parameter: { Value: value } });
    const source = createSsmCryptKeySource({ parameterName: name, client, now });

    // Act
    const failure = await source.cryptKey().catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(CryptKeyError);
    expect(failure).toMatchObject({ source: name, cause: missing });
    expect(await source.cryptKey()).toBe(value);
  });

  it.each([
    ['no parameter', {}],
    ['no value', { Parameter: {} }],
    ['a blank value', { Parameter: { Value: ' \n ' } }],
  ])('throws a CryptKeyError on %s, never quoting a value', async (_name, output) => {
    ssm.on(GetParameterCommand).resolves(output);
    const source = createSsmCryptKeySource({ parameterName: name, client, now });

    await expect(source.cryptKey()).rejects.toThrow(CryptKeyError);
  });

  it('refuses a parameter name that is neither a path nor an ARN', () => {
    expect(() => createSsmCryptKeySource({ parameterName: 'crypt-key', client })).toThrow(CryptKeyError);
  });
});

import {
  GetSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createSecretsManagerSigningKeySource,
  SigningKeyError,
  signingKeysOf,
} from '../../../lib/images/signingKeySource.ts';

// What moto cannot be made to answer on demand (IAM denial, an outage after a good read); the reads,
// the rotation and a missing secret run against moto in test/integration/images/signingKeys.test.ts.
const secretId = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:m2/image-signing-AbCdEf';
const key = (c: string) => c.repeat(32);

const accessDenied = () =>
  new SecretsManagerServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `User: arn:aws:sts::123456789012:assumed-role/other is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId}`,
  });

describe('createSecretsManagerSigningKeySource', () => {
  const sm = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  let clock = 1_000;
  const now = () => clock;

  beforeEach(() => {
    sm.reset();
    clock = 1_000;
  });

  it('throws a SigningKeyError naming the secret and AccessDeniedException when IAM denies the read', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).rejects(accessDenied());
    const source = createSecretsManagerSigningKeySource({ secretId, client, now });

    // Act
    const read = source.signingKeys();

    // Assess
    await expect(read).rejects.toThrow(SigningKeyError);
    await expect(read).rejects.toThrow(
      `reading the signing keys failed: AccessDeniedException (secret ${secretId})`,
    );
  });

  it('never falls back to expired keys when a later read fails, and reads again on the next call', async () => {
    // Prepare
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: key('a') })
      .rejectsOnce(accessDenied())
      .resolves({ SecretString: `${key('a')},${key('b')}` });
    const source = createSecretsManagerSigningKeySource({ secretId, client, now, ttlMs: 1000 });
    expect(await source.signingKeys()).toEqual([key('a')]);

    // Act
    clock += 1000;
    const failed = source.signingKeys();

    // Assess
    await expect(failed).rejects.toThrow(SigningKeyError);
    expect(await source.signingKeys()).toEqual([key('a'), key('b')]);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
  });

  it('shares one read between concurrent requests', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: key('a') });
    const source = createSecretsManagerSigningKeySource({ secretId, client, now });

    await Promise.all([source.signingKeys(), source.signingKeys(), source.signingKeys()]);

    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: secretId });
  });

  it('refuses a binary secret (the keys are text, as in the edge KeyValueStore)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    const source = createSecretsManagerSigningKeySource({ secretId, client, now });
    await expect(source.signingKeys()).rejects.toThrow('has no SecretString');
  });
});

describe('signingKeysOf', () => {
  it.each([
    [key('a'), [key('a')]],
    [` ${key('a')} , ${key('b')} `, [key('a'), key('b')]],
    [`${key('a')},`, [key('a')]],
  ])('reads %j as current[,next]', (text, keys) => {
    expect(signingKeysOf(text, secretId)).toEqual(keys);
  });

  it.each([
    ['empty', '', 'is empty'],
    ['only commas', ' , ', 'is empty'],
    ['three keys', `${key('a')},${key('b')},${key('c')}`, 'at most 2'],
    ['a short key', `${key('a')},tooshort`, 'at least 32 characters'],
  ])('refuses %s without quoting it', (_name, text, problem) => {
    expect.assertions(3);
    try {
      signingKeysOf(text, secretId);
    } catch (error) {
      expect(error).toBeInstanceOf(SigningKeyError);
      expect((error as Error).message).toContain(problem);
      expect((error as Error).message).not.toContain('tooshort');
    }
  });
});

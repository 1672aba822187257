import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecretsManagerTokenKey } from '../../../lib/rollout/tokenKey.ts';
import { embeddedEnv } from '../../helpers/embedded.ts';

let client: SecretsManagerClient;

/** A new secret in moto holding `value`; its ARN. */
async function secret(value: string): Promise<string> {
  const created = await client.send(
    new CreateSecretCommand({
      Name: `m2-rollout-token-${randomBytes(4).toString('hex')}`,
      SecretString: value,
    }),
  );
  return created.ARN ?? '';
}

beforeAll(() => {
  embeddedEnv();
  client = new SecretsManagerClient({});
});

describe('the rollout token key from Secrets Manager (moto)', () => {
  it("reads the secret's text as the key and keeps it until a fresh read is asked for", async () => {
    // Prepare
    const first = 'a'.repeat(40);
    const arn = await secret(first);
    const source = createSecretsManagerTokenKey({ secretId: arn, client });
    const cached = await source.tokenKey();
    await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'b'.repeat(40) }));

    // Act
    const again = await source.tokenKey();
    const fresh = await source.tokenKey({ fresh: true });

    // Assess
    expect(cached.toString()).toBe(first);
    expect(again.toString()).toBe(first);
    expect(fresh.toString()).toBe('b'.repeat(40));
  });

  it('refuses a key shorter than 32 bytes, naming the secret and not the value', async () => {
    const arn = await secret('short-key-value');
    const read = createSecretsManagerTokenKey({ secretId: arn, client }).tokenKey();
    await expect(read).rejects.toThrow(`the token key is shorter than 32 bytes (secret ${arn})`);
    await expect(read).rejects.not.toThrow(/short-key-value/);
  });

  it('names the secret and the error when it cannot be read', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:m2-no-such-secret-AbCdEf';
    await expect(createSecretsManagerTokenKey({ secretId: arn, client }).tokenKey()).rejects.toThrow(
      /reading the token key failed: .*\(secret arn:aws:secretsmanager:.*m2-no-such-secret/,
    );
  });
});

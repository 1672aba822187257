import { describe, expect, it } from 'vitest';
import { InvalidVariablesError } from '../../../lib/config/errors.ts';
import { tokenKeySettingsFromEnv } from '../../../lib/rollout/tokenKey.ts';

describe('tokenKeySettingsFromEnv', () => {
  it('takes the secret ARN from ROLLOUT_TOKEN_SECRET_ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:m2-rollout-token-AbCdEf';
    expect(tokenKeySettingsFromEnv({ ROLLOUT_TOKEN_SECRET_ARN: arn })).toEqual({ secretId: arn });
  });

  it.each([
    ['missing', {}],
    [
      'not a Secrets Manager ARN',
      { ROLLOUT_TOKEN_SECRET_ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x' },
    ],
    ['empty (the stage parameter left unset)', { ROLLOUT_TOKEN_SECRET_ARN: '' }],
  ])('fails the cold start naming the variable when it is %s', (_, env) => {
    expect(() => tokenKeySettingsFromEnv(env)).toThrow(InvalidVariablesError);
    expect(() => tokenKeySettingsFromEnv(env)).toThrow(/ROLLOUT_TOKEN_SECRET_ARN/);
  });
});

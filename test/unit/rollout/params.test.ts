import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../lib/rollout/errors.ts';
import { parseRolloutParams } from '../../../lib/rollout/params.ts';

describe('parseRolloutParams', () => {
  it('applies the defaults', () => {
    expect(parseRolloutParams('{"namespace":"example-shop","imageTag":"2.4.8"}')).toEqual({
      namespace: 'example-shop',
      imageTag: '2.4.8',
      migrate: 'auto',
      timeoutSeconds: 900,
      targets: { web: ['m2-http'], cron: ['m2-cron'] },
      migrationTemplate: 'm2-migrate',
      verifyCron: true,
      dryRun: false,
    });
  });

  it('accepts a full image with a digest and explicit targets', () => {
    const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/magento:2.4.8@sha256:${'a'.repeat(64)}`;
    const params = parseRolloutParams(
      JSON.stringify({
        namespace: 'shop-a',
        image,
        migrate: 'never',
        targets: { consumers: ['m2-consumer-a'] },
      }),
    );
    expect(params.image).toBe(image);
    expect(params.targets.consumers).toEqual(['m2-consumer-a']);
  });

  it.each([
    [undefined, 'UserParameters'],
    ['', 'UserParameters'],
    ['{not json', 'UserParameters'],
    ['[]', 'UserParameters'],
    ['{"imageTag":"2.4.8"}', 'UserParameters.namespace'],
    ['{"namespace":"Shop_A","imageTag":"2.4.8"}', 'UserParameters.namespace'],
    ['{"namespace":"shop","image":"a/b:1","imageTag":"1"}', 'UserParameters.image'],
    ['{"namespace":"shop","image":"a b"}', 'UserParameters.image'],
    ['{"namespace":"shop","imageTag":"a/b"}', 'UserParameters.imageTag'],
    ['{"namespace":"shop","imageTag":"1","migrate":"sometimes"}', 'UserParameters.migrate'],
    ['{"namespace":"shop","imageTag":"1","timeoutSeconds":5}', 'UserParameters.timeoutSeconds'],
    ['{"namespace":"shop","imageTag":"1","targets":{"web":["A"]}}', 'UserParameters.targets.web.0'],
    ['{"namespace":"shop","imageTag":"1","imge":"x"}', 'UserParameters.imge'],
  ])('rejects %s naming %s', (input, field) => {
    expect.assertions(2);
    try {
      parseRolloutParams(input);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).field).toBe(field);
    }
  });

  it('leaves the image to the input artifact when neither image nor imageTag is given', () => {
    const params = parseRolloutParams('{"namespace":"shop"}');
    expect([params.image, params.imageTag]).toEqual([undefined, undefined]);
  });

  it('throws only ConfigurationError for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (input) => {
        try {
          parseRolloutParams(input);
        } catch (error) {
          return error instanceof ConfigurationError;
        }
        return true;
      }),
    );
  });
});

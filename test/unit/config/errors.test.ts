import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { intVar, jsonVar, parseEnv } from '../../../lib/config/env.ts';
import { ConfigError, ConflictingVariablesError, InvalidVariablesError } from '../../../lib/config/errors.ts';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';

const schema = z.object({
  COUNT: intVar(1),
  LIST: jsonVar(z.array(z.number().int())).optional(),
});

describe('parseEnv', () => {
  it('returns the parsed variables, frozen', () => {
    const env = parseEnv(schema, { COUNT: '3', LIST: '[1,2]' });
    expect(env).toEqual({ COUNT: 3, LIST: [1, 2] });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it.each<[string, Record<string, string>, string[], string]>([
    [
      'a malformed variable',
      { COUNT: 'three' },
      ['COUNT'],
      'invalid configuration: COUNT: must be a whole number',
    ],
    ['malformed JSON', { LIST: '[1,' }, ['LIST'], 'invalid configuration: LIST: not valid JSON'],
    [
      'a bad element of a JSON variable, by path',
      { LIST: '[1,"x"]' },
      ['LIST'],
      'invalid configuration: LIST.1: ',
    ],
    ['every malformed variable at once', { COUNT: '0', LIST: '{}' }, ['COUNT', 'LIST'], 'COUNT: '],
  ])('throws an InvalidVariablesError naming %s', (_name, env, variables, message) => {
    // Act
    const act = () => parseEnv(schema, env);
    // Assess
    expect(act).toThrow(InvalidVariablesError);
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
    expect(act).toThrow(expect.objectContaining({ name: 'InvalidVariablesError', variables }));
  });

  it('keeps the schema error as the cause', () => {
    expect(() => parseEnv(schema, { COUNT: 'x' })).toThrow(
      expect.objectContaining({ cause: expect.any(z.ZodError) }),
    );
  });
});

describe('ConflictingVariablesError', () => {
  it('names both variables of a layout that cannot work', () => {
    const act = () =>
      loadImageVariantsConfig({
        MEDIA_BUCKET: 'shop-media',
        MEDIA_PREFIX: 'shop/',
        MEDIA_ROOTS: 'catalog/product/',
        DERIVED_PREFIX: 'shop/catalog/',
      });
    expect(act).toThrow(ConflictingVariablesError);
    expect(act).toThrow(
      expect.objectContaining({
        name: 'ConflictingVariablesError',
        variables: ['MEDIA_ROOTS', 'DERIVED_PREFIX'],
        message:
          'invalid configuration: MEDIA_ROOTS: the media root shop/catalog/product/ must not lie inside DERIVED_PREFIX',
      }),
    );
  });
});

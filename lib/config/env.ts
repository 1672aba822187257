import { z } from 'zod';
import { InvalidVariablesError } from './errors.ts';

/**
 * Parses `env` with `schema` once and freezes the result. Every problem is reported with the
 * variable's name, so a bad deployment fails its cold start with a message an operator can act on.
 * Throws {@link InvalidVariablesError}.
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined>,
): Readonly<z.output<T>> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      variable: i.path[0] === undefined ? '(env)' : String(i.path[0]),
      path: i.path.map(String).join('.') || '(env)',
      problem: i.message,
    }));
    throw new InvalidVariablesError(problems, { cause: parsed.error });
  }
  return Object.freeze(parsed.data);
}

/** A JSON-valued variable, validated by `inner`. */
export const jsonVar = <T extends z.ZodType>(inner: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not valid JSON (${String(error)})` });
        return z.NEVER;
      }
    })
    .pipe(inner);

/** A positive integer variable with a default. */
export const intVar = (fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

/** A key prefix: no leading slash, ending in exactly one slash. */
export const prefixVar = (fallback: string) =>
  z
    .string()
    .regex(/^[^/].*\/$/, 'must not start with "/" and must end with "/"')
    .refine((p) => !p.includes('..') && !p.includes('//'), 'must not contain ".." or "//"')
    .default(fallback);

import { z } from 'zod';
import { RolloutError } from './errors.ts';

/** CodePipeline's limit on continuationToken. */
export const maxContinuationTokenLength = 2048;

const targetRef = z.object({ kind: z.enum(['Deployment', 'CronJob']), name: z.string().min(1).max(63) });
export type TargetRef = z.output<typeof targetRef>;

const stateSchema = z.object({
  v: z.literal(1),
  /** Release id: the first job id of this pipeline execution's action; names the migration Job. */
  release: z.string().min(1).max(64),
  phase: z.enum(['preflight', 'migrate', 'web', 'consumers', 'cron', 'rollback', 'success', 'failure']),
  /** When the current phase started (ms since epoch): its deadline spans invocations. */
  phaseStartedAt: z.number().int(),
  /** When the release's first invocation started (ms since epoch), for RolloutDuration; absent in older tokens. */
  startedAt: z.number().int().optional(),
  /** Resolved in preflight, so a resumed invocation does not resolve it differently. */
  image: z.string().max(512).optional(),
  previousImage: z.string().max(512).optional(),
  migrate: z.boolean().optional(),
  targets: z.array(targetRef).max(60).default([]),
  /** Targets whose image this rollout set, in order. */
  patched: z.array(targetRef).max(60).default([]),
  /** Why the rollout failed, once it has (carried through rollback). */
  failure: z.string().max(400).optional(),
});

/** What a rollout carries from one invocation to the next. */
export type RolloutState = z.output<typeof stateSchema>;

// On the wire, keys are short and targets are "d/<name>" or "c/<name>", patched ones indices into
// them: a shop with 20 consumers and a long failure message still fits 2048 characters.
const wireSchema = z.object({
  v: z.literal(1),
  r: z.string(),
  p: z.string(),
  t: z.number(),
  s: z.number().optional(),
  i: z.string().optional(),
  pi: z.string().optional(),
  m: z.boolean().optional(),
  T: z.array(z.string().regex(/^[dc]\/.+$/)),
  P: z.array(z.number().int().min(0)),
  f: z.string().optional(),
});

const toWire = (s: RolloutState): z.input<typeof wireSchema> => {
  const key = (t: TargetRef) => `${t.kind === 'Deployment' ? 'd' : 'c'}/${t.name}`;
  const keys = s.targets.map(key);
  return {
    v: 1,
    r: s.release,
    p: s.phase,
    t: s.phaseStartedAt,
    ...(s.startedAt === undefined ? {} : { s: s.startedAt }),
    ...(s.image === undefined ? {} : { i: s.image }),
    ...(s.previousImage === undefined ? {} : { pi: s.previousImage }),
    ...(s.migrate === undefined ? {} : { m: s.migrate }),
    T: keys,
    P: s.patched.map((t) => keys.indexOf(key(t))),
    ...(s.failure === undefined ? {} : { f: s.failure }),
  };
};

const fromWire = (w: z.output<typeof wireSchema>): unknown => {
  const targets = w.T.map((k) => ({ kind: k.startsWith('d/') ? 'Deployment' : 'CronJob', name: k.slice(2) }));
  return {
    v: w.v,
    release: w.r,
    phase: w.p,
    phaseStartedAt: w.t,
    startedAt: w.s,
    image: w.i,
    previousImage: w.pi,
    migrate: w.m,
    targets,
    patched: w.P.map((i) => targets[i]),
    failure: w.f,
  };
};

/**
 * Encodes the state as a continuation token (base64url of compact JSON). Throws when it would
 * exceed CodePipeline's 2048 characters, rather than have the reply rejected.
 */
export function encodeContinuationToken(state: RolloutState): string {
  if (state.patched.some((p) => !state.targets.some((t) => t.kind === p.kind && t.name === p.name))) {
    throw new RolloutError('a patched target is missing from the targets');
  }
  const token = Buffer.from(JSON.stringify(toWire(state)), 'utf8').toString('base64url');
  if (token.length > maxContinuationTokenLength) {
    throw new RolloutError(`the rollout state does not fit a continuation token (${token.length} chars)`);
  }
  return token;
}

/** Decodes a continuation token written by encodeContinuationToken; throws RolloutError otherwise. */
export function decodeContinuationToken(token: string): RolloutState {
  const invalid = (cause: unknown) =>
    new RolloutError('the continuation token is not one this function wrote', { cause });
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (error) {
    throw invalid(error);
  }
  const wire = wireSchema.safeParse(json);
  if (!wire.success) throw invalid(wire.error);
  const parsed = stateSchema.safeParse(fromWire(wire.data));
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

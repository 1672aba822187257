import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { ContinuationRefusedError, RolloutError } from './errors.ts';

/** CodePipeline's limit on continuationToken. */
export const maxContinuationTokenLength = 2048;

const targetRef = z.object({ kind: z.enum(['Deployment', 'CronJob']), name: z.string().min(1).max(63) });
export type TargetRef = z.output<typeof targetRef>;

const stateSchema = z.object({
  v: z.literal(1),
  /** Release id: the first job id of this pipeline execution's action; names the migration Job. */
  release: z.string().min(1).max(64),
  phase: z.enum([
    'preflight',
    'migrate',
    'preview',
    'web',
    'consumers',
    'cron',
    'rollback',
    'success',
    'failure',
  ]),
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
  /** Targets whose recorded images the rollback wrote back (and, once waited on, that became healthy). */
  rolledBack: z.array(targetRef).max(60).default([]),
  /** Targets the rollback could not restore (or that stayed unhealthy after it), with why. */
  notRolledBack: z
    .array(z.object({ ref: targetRef, reason: z.string().max(200) }))
    .max(60)
    .default([]),
  /**
   * The quiet migration window (quietWindow.ts): `opening` once cron is suspended and consumers are
   * asked to drain, `quiet` once nothing runs, `closed` once restored. What was there before lives on
   * the objects themselves, so a crash in between is restored from there.
   */
  quiet: z.enum(['opening', 'quiet', 'closed']).optional(),
  /** When the window opened (ms since epoch): the drain deadline spans invocations. */
  quietSince: z.number().int().optional(),
  /** What the window's close left as someone else changed it (reported with the verdict). */
  quietReport: z.string().max(200).optional(),
});

/** What a rollout carries from one invocation to the next. */
export type RolloutState = z.output<typeof stateSchema>;

// On the wire, keys are short and targets are "d/<name>" or "c/<name>", patched ones indices into
// them (then deflated and signed, see signContinuationToken).
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
  B: z.array(z.number().int().min(0)).optional(),
  N: z.array(z.tuple([z.number().int().min(0), z.string()])).optional(),
  q: z.enum(['opening', 'quiet', 'closed']).optional(),
  qt: z.number().optional(),
  qr: z.string().optional(),
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
    ...(s.rolledBack.length === 0 ? {} : { B: s.rolledBack.map((t) => keys.indexOf(key(t))) }),
    ...(s.notRolledBack.length === 0
      ? {}
      : { N: s.notRolledBack.map((n): [number, string] => [keys.indexOf(key(n.ref)), n.reason]) }),
    ...(s.quiet === undefined ? {} : { q: s.quiet }),
    ...(s.quietSince === undefined ? {} : { qt: s.quietSince }),
    ...(s.quietReport === undefined ? {} : { qr: s.quietReport }),
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
    rolledBack: (w.B ?? []).map((i) => targets[i]),
    notRolledBack: (w.N ?? []).map(([i, reason]) => ({ ref: targets[i], reason })),
    quiet: w.q,
    quietSince: w.qt,
    quietReport: w.qr,
  };
};

/** What a token is bound to besides its state: a token of another pipeline or shop is refused. */
export interface TokenBinding {
  /** The pipeline's name, as GetJobDetails reports the job's. */
  readonly pipelineName: string;
  /** The shop's namespace (UserParameters.namespace). */
  readonly namespace: string;
  /**
   * The action's UserParameters as CodePipeline holds them: the same for every job of one action
   * execution, so a token handed to a job that names another image, tag or shop is refused even
   * when it was issued before the image was resolved.
   */
  readonly userParameters: string;
}

/** A verified token: the state and the job that handed it over (the Lease records the newest). */
export interface VerifiedToken {
  readonly state: RolloutState;
  readonly issuedBy: string;
}

// Format 2: `2.<base64url(deflate-raw(JSON))>.<base64url(HMAC-SHA256)>`. Deflate because target
// names repeat ("d/m2-consumer-…"): 22 Magento consumers fit with room to spare.
const formatPrefix = '2.';
const macContext = 'm2-eks-pipeline rollout continuation v2';

const bound = z.object({ pn: z.string(), ns: z.string(), u: z.string(), j: z.string(), w: z.unknown() });

/** A short digest of the UserParameters (the token carries it, not the parameters themselves). */
const parametersDigest = (userParameters: string): string =>
  createHash('sha256').update(userParameters, 'utf8').digest('base64url').slice(0, 22);

const mac = (key: Buffer, body: string): string =>
  createHmac('sha256', key).update(`${macContext}\n${body}`).digest('base64url');

function encodeBody(state: RolloutState, binding: TokenBinding, issuedBy: string): string {
  const json = JSON.stringify({
    pn: binding.pipelineName,
    ns: binding.namespace,
    u: parametersDigest(binding.userParameters),
    j: issuedBy,
    w: toWire(state),
  });
  return deflateRawSync(Buffer.from(json, 'utf8'), { level: 9 }).toString('base64url');
}

/** The token's text for `state`, signed with `key`; undefined when it exceeds CodePipeline's limit. */
function tokenFor(
  state: RolloutState,
  binding: TokenBinding,
  issuedBy: string,
  key: Buffer,
): string | undefined {
  const body = encodeBody(state, binding, issuedBy);
  const token = `${formatPrefix}${body}.${mac(key, body)}`;
  return token.length <= maxContinuationTokenLength ? token : undefined;
}

/** The state does not fit CodePipeline's 2048 characters even with its failure text shortened. */
export class TokenTooLongError extends RolloutError {
  constructor(detail: string) {
    super(`the rollout state does not fit a continuation token (${detail})`);
    this.name = 'TokenTooLongError';
  }
}

/**
 * Signs the state as a continuation token bound to the pipeline, the shop and the job that hands
 * over (`issuedBy`). When it would exceed CodePipeline's 2048 characters the failure text is
 * shortened (the final report carries the full one when this invocation ends the rollout); throws
 * TokenTooLongError when even that does not fit.
 *
 * @example signContinuationToken(state, { pipelineName: 'shop-release', namespace: 'shop-a' }, jobId, key)
 */
export function signContinuationToken(
  state: RolloutState,
  binding: TokenBinding,
  issuedBy: string,
  key: Buffer,
): string {
  const known = (p: TargetRef) => state.targets.some((t) => t.kind === p.kind && t.name === p.name);
  if (![...state.patched, ...state.rolledBack, ...state.notRolledBack.map((n) => n.ref)].every(known)) {
    throw new RolloutError('a patched target is missing from the targets');
  }
  const attempts: RolloutState[] = [
    state,
    ...(state.failure === undefined
      ? []
      : [120, 40].map((max) => ({ ...state, failure: clipText(state.failure ?? '', max) }))),
  ];
  for (const attempt of attempts) {
    const token = tokenFor(attempt, binding, issuedBy, key);
    if (token !== undefined) return token;
  }
  throw new TokenTooLongError(`${state.targets.length} targets, image ${state.image?.length ?? 0} chars`);
}

const clipText = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** The parts of a token before its signature is checked (for reading only, never for trusting). */
function splitToken(token: string): { body: string; signature: string } {
  const malformed = (detail: string) =>
    new ContinuationRefusedError(
      'malformed',
      `the continuation token is not one this function writes (${detail})`,
    );
  if (!token.startsWith(formatPrefix))
    throw malformed('no format-2 prefix; an unsigned token of an older version?');
  const [body, signature, ...rest] = token.slice(formatPrefix.length).split('.');
  if (body === undefined || signature === undefined || rest.length > 0 || body === '') {
    throw malformed('not <body>.<signature>');
  }
  return { body, signature };
}

function parseBody(body: string): z.output<typeof bound> & { state: RolloutState } {
  const invalid = (cause: unknown) =>
    new ContinuationRefusedError('malformed', 'the continuation token does not hold a rollout state', {
      cause,
    });
  let json: unknown;
  try {
    json = JSON.parse(inflateRawSync(Buffer.from(body, 'base64url')).toString('utf8'));
  } catch (error) {
    throw invalid(error);
  }
  const outer = bound.safeParse(json);
  if (!outer.success) throw invalid(outer.error);
  const wire = wireSchema.safeParse(outer.data.w);
  if (!wire.success) throw invalid(wire.error);
  const parsed = stateSchema.safeParse(fromWire(wire.data));
  if (!parsed.success) throw invalid(parsed.error);
  return { ...outer.data, state: parsed.data };
}

/**
 * Verifies a continuation token: its HMAC under `key` (constant-time), then that it was issued for
 * this pipeline, shop and UserParameters. Throws ContinuationRefusedError: `malformed` (not a token of
 * ours), `tampered` (the signature does not match), `foreign` (another pipeline, shop or UserParameters).
 */
export function verifyContinuationToken(token: string, binding: TokenBinding, key: Buffer): VerifiedToken {
  const { body, signature } = splitToken(token);
  const expected = Buffer.from(mac(key, body), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ContinuationRefusedError('tampered', "the continuation token's signature does not match");
  }
  const decoded = parseBody(body);
  if (decoded.pn !== binding.pipelineName) {
    throw new ContinuationRefusedError(
      'foreign',
      `the continuation token was issued for pipeline ${decoded.pn}, this job belongs to ${binding.pipelineName}`,
    );
  }
  if (decoded.ns !== binding.namespace) {
    throw new ContinuationRefusedError(
      'foreign',
      `the continuation token was issued for shop ${decoded.ns}, this job rolls out to ${binding.namespace}`,
    );
  }
  if (decoded.u !== parametersDigest(binding.userParameters)) {
    throw new ContinuationRefusedError(
      'foreign',
      "the continuation token was issued for other UserParameters than this job's (another image, tag or setting)",
    );
  }
  return { state: decoded.state, issuedBy: decoded.j };
}

/**
 * Reads a token's state without verifying it: for tests and reports that inspect what was handed
 * over. The rollout itself only resumes from {@link verifyContinuationToken}.
 */
export function decodeContinuationToken(token: string): RolloutState {
  return parseBody(splitToken(token).body).state;
}

import { z } from 'zod';
import type { ProxiedResponse } from '../k8s/clusterClient.ts';
import { SmokePlanError } from './errors.ts';

/**
 * Annotations on a web Deployment (m2-http) that declare its smoke checks: HTTP requests the
 * rollout sends to the new pods, and only to them, before it calls a release good.
 */
export const smokeAnnotations = {
  /** JSON list of `{ path, status?, contains?, asset? }`; `[]` turns the checks off for the Deployment. */
  checks: 'm2-eks-pipeline.io/smoke-checks',
  /** Seconds all checks of one verification may take together, retries included (5–600, default 60). */
  budgetSeconds: 'm2-eks-pipeline.io/smoke-budget-seconds',
} as const;

/** One check: GET `path`, expect one of `statuses` and, when given, `contains` in the body. */
export interface SmokeCheck {
  /** Path and query as the shop serves them, e.g. `/` or `/graphql?query=…`. */
  readonly path: string;
  readonly statuses: readonly number[];
  readonly contains?: string;
  /** Then also GET the first `/static/…` CSS or JS file the body links, expecting 200 (the new build's assets). */
  readonly asset: boolean;
}

/** What one verification runs, and within how long. */
export interface SmokePlan {
  readonly checks: readonly SmokeCheck[];
  readonly budgetMs: number;
  /** Where the checks come from: the Deployment's annotation, or the defaults (no annotation). */
  readonly source: 'annotation' | 'default';
}

/**
 * Without an annotation: the home page (and the static file it links, so a build whose
 * `setup:static-content:deploy` output is missing fails) and a GraphQL query. Both read the
 * database in Magento, unlike the readiness probe (php-fpm's ping).
 */
export const defaultSmokeChecks: readonly SmokeCheck[] = Object.freeze([
  { path: '/', statuses: [200], asset: true },
  {
    path: '/graphql?query=%7BstoreConfig%7Bstore_code%7D%7D',
    statuses: [200],
    contains: '"data":{',
    asset: false,
  },
]);

const defaultBudgetSeconds = 60;

const status = z.number().int().min(100).max(599);
const checkSchema = z
  .object({
    path: z
      .string()
      .max(512)
      .regex(
        /^\/[!-~]*$/,
        'must start with / and hold only printable ASCII without spaces (percent-encode the rest)',
      ),
    status: z.union([status, z.array(status).min(1).max(10)]).default(200),
    contains: z.string().min(1).max(200).optional(),
    asset: z.boolean().default(false),
  })
  .strict();
const checksSchema = z.array(checkSchema).max(10);

function parseChecks(target: string, raw: string): SmokeCheck[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new SmokePlanError(target, smokeAnnotations.checks, 'not valid JSON', { cause: error });
  }
  const parsed = checksSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.map(String).join('.') ?? '';
    throw new SmokePlanError(
      target,
      smokeAnnotations.checks,
      `${at === '' ? '' : `[${at}] `}${issue?.message ?? 'invalid'}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data.map((c) => ({
    path: c.path,
    statuses: typeof c.status === 'number' ? [c.status] : c.status,
    ...(c.contains === undefined ? {} : { contains: c.contains }),
    asset: c.asset,
  }));
}

function parseBudget(target: string, raw: string | undefined): number {
  if (raw === undefined) return defaultBudgetSeconds * 1000;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 5 || seconds > 600) {
    throw new SmokePlanError(
      target,
      smokeAnnotations.budgetSeconds,
      `must be a whole number of seconds, 5 to 600 (is "${raw}")`,
    );
  }
  return seconds * 1000;
}

/**
 * The smoke checks a web Deployment declares (its annotations), or the defaults when it declares
 * none. Throws SmokePlanError naming the Deployment (`target`) and the annotation when one is malformed.
 *
 * @example smokePlan('shop-a/deployment/m2-http', { 'm2-eks-pipeline.io/smoke-checks': '[{"path":"/","status":200}]' })
 */
export function smokePlan(target: string, annotations: Readonly<Record<string, string>>): SmokePlan {
  const raw = annotations[smokeAnnotations.checks];
  const budgetMs = parseBudget(target, annotations[smokeAnnotations.budgetSeconds]);
  return raw === undefined
    ? { checks: defaultSmokeChecks, budgetMs, source: 'default' }
    : { checks: parseChecks(target, raw), budgetMs, source: 'annotation' };
}

/** How one attempt of a check came out. */
export type CheckVerdict =
  | { readonly kind: 'pass' }
  /** Not what was expected; retried while attempts and budget last, then the failure. */
  | { readonly kind: 'mismatch'; readonly reason: string };

/** The first bytes of a body, on one line, for a report. */
export const bodyStart = (body: string, max = 160): string => {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
};

/** Judges one answer of the backend against the check (pure). */
export function judgeResponse(check: SmokeCheck, response: ProxiedResponse): CheckVerdict {
  if (!check.statuses.includes(response.status)) {
    const expected = check.statuses.join(' or ');
    return {
      kind: 'mismatch',
      reason: `answered ${response.status} (expected ${expected}); body starts "${bodyStart(response.body)}"`,
    };
  }
  if (check.contains !== undefined && !response.body.includes(check.contains)) {
    return {
      kind: 'mismatch',
      reason: `answered ${response.status} without ${JSON.stringify(check.contains)}; body starts "${bodyStart(response.body)}"`,
    };
  }
  return { kind: 'pass' };
}

/**
 * The first static CSS or JS file a page links (`/static/version<N>/…` when static signing is on), as
 * a path to request. The apiserver's proxy rewrites links in HTML to go through itself, so the path is
 * taken from the `/static/` part on.
 */
export function linkedAsset(body: string): string | undefined {
  const match = /\/static\/(?:version\d+\/)?[^"'\s<>()?#]+\.(?:css|js)\b/.exec(body);
  return match?.[0];
}

/** How persistently one check is repeated before it counts as failed. */
export interface RetryShape {
  readonly attempts: number;
  /** Pause after the first failed attempt; doubles after each further one. */
  readonly firstPauseMs: number;
}

export const defaultRetryShape: RetryShape = Object.freeze({ attempts: 4, firstPauseMs: 500 });

/**
 * The pause before the next attempt after `attempt` failed ones, or undefined when the check has
 * failed for good: attempts used up, or the pause would end past the budget's deadline.
 */
export function nextAttemptIn(
  attempt: number,
  now: number,
  deadlineAt: number,
  shape: RetryShape,
): number | undefined {
  if (attempt >= shape.attempts) return undefined;
  const pause = shape.firstPauseMs * 2 ** (attempt - 1);
  return now + pause >= deadlineAt ? undefined : pause;
}

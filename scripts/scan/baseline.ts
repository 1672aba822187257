import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { BaselineError } from './errors.ts';
import { type Finding, findingKey } from './finding.ts';

/** One accepted finding: a check on some objects, for one stated reason. */
export interface BaselineEntry {
  readonly check: string;
  readonly resources: readonly string[];
  readonly reason: string;
}

const entrySchema = z.strictObject({
  check: z.string().min(1),
  resources: z.array(z.string().min(1)).min(1),
  // One line: the reason is read in a review next to the check id, not a paragraph.
  reason: z
    .string()
    .trim()
    .min(10)
    .refine((r) => !r.includes('\n'), 'the reason must be one line'),
});
const baselineSchema = z.strictObject({ accepted: z.array(entrySchema) });

/** Reads and validates a baseline file; a malformed entry or a check/resource listed twice fails by name. */
export function loadBaseline(file: string): readonly BaselineEntry[] {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new BaselineError(file, 'cannot be read as YAML', { cause: error });
  }
  const parsed = baselineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BaselineError(file, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const seen = new Set<string>();
  for (const entry of parsed.data.accepted) {
    for (const resource of entry.resources) {
      const key = findingKey(entry.check, resource);
      if (seen.has(key)) throw new BaselineError(file, `${key} is listed twice`);
      seen.add(key);
    }
  }
  return parsed.data.accepted;
}

/** A baseline entry (one check on one resource) that no scan reported: the baseline no longer tells the truth. */
export interface StaleEntry {
  readonly check: string;
  readonly resource: string;
}

/** What a scan found that its baseline does not explain, and what the baseline lists that no longer occurs. */
export interface Comparison {
  /** Unlisted findings, one per check and resource (the files that showed it joined). */
  readonly unlisted: readonly Finding[];
  readonly stale: readonly StaleEntry[];
}

/**
 * Compares findings with a baseline. Findings match entries on check and resource only, so one entry
 * covers an object however many scanned files (both packaged templates) show it.
 *
 * @example
 * compareWithBaseline(findings, loadBaseline('security/baseline/kube-score.yaml'))
 * // { unlisted: [], stale: [] } when the baseline is exactly true
 */
export function compareWithBaseline(
  findings: readonly Finding[],
  baseline: readonly BaselineEntry[],
): Comparison {
  const accepted = new Set(baseline.flatMap((e) => e.resources.map((r) => findingKey(e.check, r))));
  const found = new Map<string, Finding>();
  for (const f of findings) {
    const key = findingKey(f.check, f.resource);
    const seen = found.get(key);
    if (seen === undefined) found.set(key, f);
    else if (!seen.file.split(', ').includes(f.file))
      found.set(key, { ...seen, file: `${seen.file}, ${f.file}` });
  }
  const unlisted = [...found.entries()].filter(([key]) => !accepted.has(key)).map(([, f]) => f);
  const stale = baseline.flatMap((e) =>
    e.resources
      .filter((r) => !found.has(findingKey(e.check, r)))
      .map((resource) => ({ check: e.check, resource })),
  );
  return { unlisted, stale };
}

/** The lines a failing scan prints: each unlisted finding and each stale entry, with what to do about it. */
export function describeComparison(scanner: string, baselineFile: string, comparison: Comparison): string[] {
  return [
    ...comparison.unlisted.map(
      (f) =>
        `${scanner}: new finding ${f.check} on ${f.resource} in ${f.file} (${f.title}): fix it, or accept it in ${baselineFile} with a one-line reason`,
    ),
    ...comparison.stale.map(
      (s) =>
        `${scanner}: ${baselineFile} accepts ${s.check} on ${s.resource}, which no scan reports any more: remove it`,
    ),
  ];
}

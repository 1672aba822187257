import { resolve } from 'node:path';
import { z } from 'zod';
import type { ScanTarget } from './checkov.ts';
import type { Finding } from './finding.ts';
import { pathTool, runTool } from './tools.ts';

/** How far ahead cfn-lint is run: about six months, so a runtime deprecation shows before it blocks updates. */
export const aheadDays = 183;

const match = z.object({
  Filename: z.string(),
  Level: z.string(),
  Message: z.string(),
  Location: z.object({
    Path: z
      .array(z.union([z.string(), z.number()]))
      .nullable()
      .optional(),
  }),
  Rule: z.object({ Id: z.string() }),
});

/** Errors and warnings of cfn-lint's `--format json` report (informational matches are left out, as today). */
export function cfnLintFindings(report: unknown, targets: readonly ScanTarget[]): Finding[] {
  const labelOf = new Map(targets.map((t) => [resolve(t.file), t.label]));
  return z
    .array(match)
    .parse(report)
    .filter((m) => m.Level === 'Error' || m.Level === 'Warning')
    .map((m) => {
      const path = m.Location.Path ?? [];
      return {
        check: m.Rule.Id,
        resource: path[0] === 'Resources' ? String(path[1]) : path.join('/'),
        file: labelOf.get(resolve(m.Filename)) ?? m.Filename,
        title: m.Message,
      };
    });
}

/**
 * cfn-lint as of {@link aheadDays} days from now. cfn-lint has no date option: its runtime rules
 * (E2531 creation blocked, E2533 update blocked, W2531 deprecated; rules/resources/lmbd/DeprecatedRuntime*.py)
 * each compare LmbdRuntimeLifecycle.json's dates with `datetime.today()`. libfaketime (`faketime -f +Nd`)
 * shifts the process clock underneath every way of asking the time; patching `datetime.datetime` in a
 * Python wrapper instead would also make PyYAML's real datetimes fail isinstance checks against the
 * patched class, and miss a rule that reads the clock through `date` or `time`.
 */
export async function runCfnLintAhead(targets: readonly ScanTarget[], days = aheadDays): Promise<Finding[]> {
  const args = ['-f', `+${days}d`, pathTool('cfn-lint'), '--format', 'json', ...targets.map((t) => t.file)];
  // cfn-lint's exit code is a bit mask of what it found (2 error, 4 warning, 8 informational); 1 is a crash.
  const okCodes = [0, 2, 4, 6, 8, 10, 12, 14];
  const { stdout } = await runTool('cfn-lint', pathTool('faketime'), args, { okCodes });
  return cfnLintFindings(JSON.parse(stdout), targets);
}

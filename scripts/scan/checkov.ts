import { resolve } from 'node:path';
import { z } from 'zod';
import { ScannerFailedError } from './errors.ts';
import type { Finding } from './finding.ts';
import { installedTool, runTool } from './tools.ts';

/** A file to scan and the name the report gives it. */
export interface ScanTarget {
  readonly label: string;
  readonly file: string;
}

const failedCheck = z.object({
  check_id: z.string(),
  check_name: z.string(),
  resource: z.string(),
  file_abs_path: z.string(),
});
const checkTypeReport = z.object({
  check_type: z.string(),
  results: z.object({ failed_checks: z.array(failedCheck) }),
  summary: z.object({ resource_count: z.number(), parsing_errors: z.number() }),
});
// With nothing to scan, checkov prints only a bare summary object instead of a report.
const emptyReport = z.object({ resource_count: z.literal(0) });

/**
 * The failed checks of checkov's `-o json` report (one check type's object, or a list of them),
 * each named by the label of the target it came from. A report that scanned nothing, could not parse
 * a file or names a file that was not a target is an error: a scan must not pass by seeing nothing.
 */
export function checkovFindings(report: unknown, targets: readonly ScanTarget[]): Finding[] {
  if (emptyReport.safeParse(report).success)
    throw new ScannerFailedError('checkov', 'found no resource to scan', 0);
  const reports = z.array(checkTypeReport).parse([report].flat());
  const labelOf = new Map(targets.map((t) => [resolve(t.file), t.label]));
  return reports.flatMap((r) => {
    if (r.summary.parsing_errors > 0) {
      throw new ScannerFailedError(
        'checkov',
        `${r.summary.parsing_errors} ${r.check_type} file(s) not parsed`,
        0,
      );
    }
    return r.results.failed_checks.map((c) => {
      const label = labelOf.get(resolve(c.file_abs_path));
      if (label === undefined)
        throw new ScannerFailedError('checkov', `reported an unscanned file ${c.file_abs_path}`, 0);
      return { check: c.check_id, resource: c.resource, file: label, title: c.check_name };
    });
  });
}

/**
 * Runs checkov (the version install.sh pins) on files of one framework, offline: `--skip-download`
 * and BC_SKIP_MAPPING keep it from fetching Prisma Cloud's guidelines and mappings, and
 * CKV_SKIP_PACKAGE_UPDATE_CHECK from asking PyPI for a newer checkov on every run.
 */
export async function runCheckov(
  framework: 'cloudformation' | 'kubernetes',
  targets: readonly ScanTarget[],
): Promise<Finding[]> {
  const args = ['--framework', framework, '-o', 'json', '--quiet', '--skip-download', '--compact'];
  for (const t of targets) args.push('-f', t.file);
  const env = {
    ...process.env,
    BC_SKIP_MAPPING: 'TRUE',
    CKV_SKIP_PACKAGE_UPDATE_CHECK: 'true',
    LOG_LEVEL: 'WARNING',
  };
  // 0: every check passed; 1: some failed (the findings we compare).
  const { stdout } = await runTool('checkov', installedTool('checkov'), args, { okCodes: [0, 1], env });
  let report: unknown;
  try {
    report = JSON.parse(stdout);
  } catch (error) {
    throw new ScannerFailedError('checkov', `printed no JSON report: ${stdout.slice(0, 200)}`, undefined, {
      cause: error,
    });
  }
  return checkovFindings(report, targets);
}

// Security scanners over what we ship, against security/baseline/ (README "Security scanners"):
//   npx tsx scripts/scan/index.ts                      package both templates, render the manifests, scan
//   npx tsx scripts/scan/index.ts --template a.json …  scan already packaged templates instead
// Exits 1 naming each new finding and each stale baseline entry. `npm test` runs the same scans
// (test/integration/security/scanners.test.ts and the packaging test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ScanTarget } from './checkov.ts';
import { packageTemplates } from './package.ts';
import { renderManifests } from './render.ts';
import { scanCloudFormation, scanKubernetes } from './scan.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { template: { type: 'string', multiple: true } } });
  const work = mkdtempSync(join(tmpdir(), 'm2-scan-'));
  try {
    const templates: ScanTarget[] =
      values.template?.map((file) => ({ label: basename(file), file })) ?? (await packageTemplates(work));
    const problems = [
      ...(await scanKubernetes(renderManifests(work))),
      ...(await scanCloudFormation(templates)),
    ];
    for (const line of problems) console.error(line);
    console.log(
      problems.length === 0
        ? 'scanners: clean against security/baseline/'
        : `scanners: ${problems.length} problem(s)`,
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();

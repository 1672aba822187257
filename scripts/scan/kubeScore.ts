import { resolve } from 'node:path';
import { z } from 'zod';
import type { ScanTarget } from './checkov.ts';
import { ScannerFailedError } from './errors.ts';
import type { Finding } from './finding.ts';
import { installedTool, runTool } from './tools.ts';

// kube-score's grades: 10 all OK, 7 almost OK, 5 warning, 1 critical.
const allOk = 10;

const scoredObject = z.object({
  type_meta: z.object({ kind: z.string() }),
  object_meta: z.object({ name: z.string(), namespace: z.string().optional() }),
  file_name: z.string(),
  checks: z.array(
    z.object({
      check: z.object({ id: z.string(), name: z.string() }),
      grade: z.number(),
      skipped: z.boolean(),
    }),
  ),
});

/** `Kind/namespace/name` (`Kind/name` when cluster-scoped): how the kube-score baseline names an object. */
const objectName = (o: z.infer<typeof scoredObject>): string =>
  [o.type_meta.kind, o.object_meta.namespace, o.object_meta.name]
    .filter((p) => p !== undefined && p !== '')
    .join('/');

/** Every check below "all OK" (warnings included) of kube-score's `-o json` report, named by target label. */
export function kubeScoreFindings(report: unknown, targets: readonly ScanTarget[]): Finding[] {
  const objects = z.array(scoredObject).parse(report);
  if (objects.length === 0) throw new ScannerFailedError('kube-score', 'scored no object', 0);
  const labelOf = new Map(targets.map((t) => [resolve(t.file), t.label]));
  return objects.flatMap((o) =>
    o.checks
      .filter((c) => !c.skipped && c.grade < allOk)
      .map((c) => ({
        check: c.check.id,
        resource: objectName(o),
        file: labelOf.get(resolve(o.file_name)) ?? o.file_name,
        title: c.check.name,
      })),
  );
}

/**
 * Scores rendered manifests with kube-score (the version install.sh pins), all files in one run:
 * its PodDisruptionBudget, Service and NetworkPolicy checks match objects across files.
 */
export async function runKubeScore(targets: readonly ScanTarget[]): Promise<Finding[]> {
  const args = ['score', '-o', 'json', ...targets.map((t) => t.file)];
  // 0: nothing critical; 1: a critical finding (compared like any other).
  const { stdout } = await runTool('kube-score', installedTool('kube-score'), args, { okCodes: [0, 1] });
  return kubeScoreFindings(JSON.parse(stdout), targets);
}

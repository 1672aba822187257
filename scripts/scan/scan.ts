import { join } from 'node:path';
import { compareWithBaseline, describeComparison, loadBaseline } from './baseline.ts';
import { runCfnLintAhead } from './cfnLintAhead.ts';
import { runCheckov, type ScanTarget } from './checkov.ts';
import { runKubeScore } from './kubeScore.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

/** The baseline of each scan, relative to the repository root (as failure lines name them). */
export const baselineFiles = {
  checkovCloudFormation: 'security/baseline/checkov-cloudformation.yaml',
  checkovKubernetes: 'security/baseline/checkov-kubernetes.yaml',
  kubeScore: 'security/baseline/kube-score.yaml',
} as const;

const against = (file: string) => loadBaseline(join(repoRoot, file));

/**
 * Scans packaged CloudFormation templates: checkov against its baseline, and cfn-lint six months
 * ahead, which has no baseline (a runtime about to be deprecated is to be upgraded, not accepted).
 * Returns one line per problem; empty when the templates are clean against the baseline.
 */
export async function scanCloudFormation(templates: readonly ScanTarget[]): Promise<string[]> {
  const checkov = await runCheckov('cloudformation', templates);
  const ahead = await runCfnLintAhead(templates);
  const file = baselineFiles.checkovCloudFormation;
  return [
    ...describeComparison('checkov', file, compareWithBaseline(checkov, against(file))),
    ...ahead.map((f) => `cfn-lint (six months ahead): ${f.check} on ${f.resource} in ${f.file}: ${f.title}`),
  ];
}

/** Scans rendered manifests with checkov and kube-score, each against its baseline; one line per problem. */
export async function scanKubernetes(manifests: readonly ScanTarget[]): Promise<string[]> {
  const checkov = await runCheckov('kubernetes', manifests);
  const kubeScore = await runKubeScore(manifests);
  const { checkovKubernetes, kubeScore: kubeScoreFile } = baselineFiles;
  return [
    ...describeComparison(
      'checkov',
      checkovKubernetes,
      compareWithBaseline(checkov, against(checkovKubernetes)),
    ),
    ...describeComparison(
      'kube-score',
      kubeScoreFile,
      compareWithBaseline(kubeScore, against(kubeScoreFile)),
    ),
  ];
}

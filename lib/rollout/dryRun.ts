import type { JsonPatchOperation } from '../k8s/clusterClient.ts';
import { cronVerificationJobName } from './cronVerification.ts';
import { imageRepository } from './imageRef.ts';
import { migrationJobName } from './migration.ts';
import { migrationWanted, releaseTargets, resolvedImage } from './phases.ts';
import { previewWanted } from './preview.ts';
import { allRunning, containerImagesOf, imagesIn } from './recordedImages.ts';
import type { RolloutRun } from './run.ts';
import { smokePlan } from './smokeChecks.ts';
import { readTarget, rolloutAnnotations, targetName, targetPatch } from './targets.ts';

/** One target's part of the plan: the images it runs, and the JSON patch its roll-forward would send. */
interface TargetPlan {
  readonly target: string;
  readonly from: readonly string[];
  readonly patch: readonly JsonPatchOperation[];
}

/** What a release would do to the shop, read from the cluster as it is now. */
export interface ReleasePlan {
  readonly namespace: string;
  readonly release: string;
  readonly image: string;
  readonly migration: string;
  readonly cronVerification: string;
  readonly preview: readonly string[];
  readonly targets: readonly TargetPlan[];
}

/**
 * The release's plan from reads only (no Lease, no record, no patch): the image, whether the
 * migration runs (in its quiet window), which web Deployments get a preview, and per target the
 * exact JSON patch of its roll-forward as it would be sent now — preconditions (resourceVersion,
 * each container's name and image) included. Throws what the preflight would (PreflightError).
 */
export async function planRelease(run: RolloutRun): Promise<ReleasePlan> {
  const { params, state } = run;
  const { cluster } = run.ports;
  const refs = await releaseTargets(run);
  const snapshots = await Promise.all(refs.map((ref) => readTarget(cluster, params.namespace, ref)));
  const web = snapshots.filter((s) => params.targets.web.includes(s.ref.name) && s.ref.kind === 'Deployment');
  const image = resolvedImage(run, web[0]);
  const repository = imageRepository(image);
  const preview = web
    .filter((s) => {
      const name = targetName(params.namespace, s.ref);
      return smokePlan(name, s.annotations).checks.length > 0 && previewWanted(name, s.annotations);
    })
    .map((s) => `${s.ref.name}-preview`);
  const migrates = await migrationWanted(run);
  const targets = snapshots.map((s): TargetPlan => {
    const current = containerImagesOf(s.template, repository);
    return {
      target: targetName(params.namespace, s.ref),
      from: imagesIn(current),
      patch: targetPatch(s, {
        annotations: {
          [rolloutAnnotations.release]: state.release,
          [rolloutAnnotations.changeCause]: `m2-eks-pipeline rollout ${state.release}: ${image}`,
        },
        images: allRunning(current, image),
        condition: 'object',
      }),
    };
  });
  return {
    namespace: params.namespace,
    release: state.release,
    image,
    migration: migrates
      ? `job/${migrationJobName(state.release)} from cronjob/${params.migrationTemplate}, with m2-cron suspended and the consumers paused and drained meanwhile`
      : 'none',
    cronVerification: params.verifyCron
      ? params.targets.cron
          .map(
            (cron) =>
              `job/${cronVerificationJobName(cron, state.release)} from cronjob/${cron} (one cron:run)`,
          )
          .join(', ') || 'none'
      : 'none',
    preview,
    targets,
  };
}

/** The plan in a few lines, for the pipeline's summary (the patches themselves go to the log). */
export function planSummary(plan: ReleasePlan): string {
  const lines = [
    `dry run of ${plan.release} on ${plan.namespace}, nothing written: ${plan.image}`,
    `migration: ${plan.migration}`,
    `cron verification: ${plan.cronVerification}`,
    `preview: ${plan.preview.length === 0 ? 'none' : plan.preview.join(', ')}`,
    ...plan.targets.map(
      (t) =>
        `${t.target}: ${t.from.join(', ')} → ${plan.image} (${t.patch.filter((o) => o.op === 'replace').length} image(s) replaced)`,
    ),
  ];
  return lines.join('\n');
}

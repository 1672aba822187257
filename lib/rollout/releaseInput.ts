import { readDeployment } from '../k8s/deployments.ts';
import { ForbiddenError, NotFoundError } from '../k8s/errors.ts';
import { ConfigurationError } from './errors.ts';
import { imageRepository } from './imageRef.ts';
import type { RolloutRun } from './run.ts';

/** Name of the variable that lists the repositories a release may come from. */
export const imageRepositoriesVariable = 'ROLLOUT_IMAGE_REPOSITORIES';

/**
 * Parses the allow-list of image repositories: comma-separated entries, each a repository
 * (`123.dkr.ecr.eu-west-1.amazonaws.com/magento`) or a prefix ending in `/*` (every repository
 * under that path). Empty or unset: no list, only the shop's own repository check applies. Throws
 * naming the variable, so a bad deployment fails its cold start rather than a release.
 *
 * @example parseImageRepositories('123.dkr.ecr.eu-west-1.amazonaws.com/*') // ['123.dkr.ecr.eu-west-1.amazonaws.com/*']
 */
export function parseImageRepositories(value: string | undefined): readonly string[] | undefined {
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return undefined;
  for (const entry of entries) {
    // Checked as the repository it stands for (a prefix's `registry:5000` is a port, not a tag): a
    // tag or digest would never match a repository, and a `*` elsewhere is no pattern we give.
    const repository = entry.endsWith('/*') ? `${entry.slice(0, -2)}/x` : entry;
    if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(repository) || imageRepository(repository) !== repository) {
      throw new Error(
        `${imageRepositoriesVariable}: "${entry}" is not a repository or a "<prefix>/*" pattern (no tag, digest or other wildcard)`,
      );
    }
  }
  return Object.freeze(entries);
}

/** Whether the allow-list admits the repository (no list admits every repository). */
export const repositoryAllowed = (repository: string, allowed: readonly string[] | undefined): boolean =>
  allowed === undefined ||
  allowed.some((entry) =>
    entry.endsWith('/*') ? repository.startsWith(entry.slice(0, -1)) : repository === entry,
  );

/**
 * Checks a new release's input against the shop before anything is written (no Lease, no record):
 * the namespace is a shop the rollout may reach, and the image belongs to the repository the shop's
 * web Deployment runs and to the allow-list. Throws ConfigurationError naming the field to fix.
 * A continuation is not checked again: its image passed this check when the release started.
 */
export async function assertReleaseInput(
  run: RolloutRun,
  allowed: readonly string[] | undefined,
): Promise<void> {
  const { params, state } = run;
  const web = params.targets.web[0] ?? 'm2-http';
  const current = await webImage(run, web);
  // Without a container the preflight explains it; nothing to compare the image with here.
  if (current === undefined) return;
  const shopRepository = imageRepository(current);
  const image = state.image ?? params.image;
  // An imageTag keeps the shop's repository by construction; only the allow-list can refuse it.
  const repository = image === undefined ? shopRepository : imageRepository(image);
  const field = state.image !== undefined ? 'input artifact imageDetail.json' : 'UserParameters.image';
  if (image !== undefined && repository !== shopRepository) {
    throw new ConfigurationError(
      field,
      `${image} is not of the shop's repository ${shopRepository} (what ${params.namespace}/deployment/${web} runs); ` +
        'a release changes the tag or digest, never the repository',
    );
  }
  if (!repositoryAllowed(repository, allowed)) {
    throw new ConfigurationError(
      image === undefined ? 'UserParameters.imageTag' : field,
      `repository ${repository} is not in ${imageRepositoriesVariable} (${(allowed ?? []).join(', ')})`,
    );
  }
}

/** The first container image of the shop's web Deployment; a missing or unreadable shop is a ConfigurationError. */
async function webImage(run: RolloutRun, web: string): Promise<string | undefined> {
  const { namespace } = run.params;
  try {
    const deployment = await readDeployment(run.ports.cluster, { namespace, name: web });
    return deployment.spec?.template.spec?.containers[0]?.image;
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new ConfigurationError(
        'UserParameters.namespace',
        `${namespace} has no deployment/${web}: not a shop on this cluster (or UserParameters.targets.web names the wrong Deployment)`,
        { cause: error },
      );
    }
    if (error instanceof ForbiddenError) {
      throw new ConfigurationError(
        'UserParameters.namespace',
        `the rollout may not read ${namespace}: not a shop (a shop namespace binds role m2:rollout in RoleBinding m2-rollout)`,
        { cause: error },
      );
    }
    throw error;
  }
}

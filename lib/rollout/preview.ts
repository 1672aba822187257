import type { V1Deployment } from '@kubernetes/client-node';
import { PreflightError } from './errors.ts';
import { withReleaseImage } from './imageRef.ts';
import { smokeAnnotations } from './smokeChecks.ts';
import { rolloutAnnotations } from './targets.ts';

/**
 * The preview: before a web Deployment is patched, its new image runs in one pod of its own — a
 * Deployment `<web>-preview` with the web pod template, the new image and another
 * `app.kubernetes.io/name` — that neither the shop's Service, its PodDisruptionBudget nor the web
 * Deployment's selector (so neither its ReplicaSets nor its HPA) select. The smoke checks run
 * against that pod alone, so a release whose pages answer 500 is caught before any customer
 * request reaches it; m2-http is only patched once the preview passed.
 */
export const previewAnnotation = 'm2-eks-pipeline.io/preview';

/** Names the web Deployment a preview belongs to; the admission policy m2-rollout-preview binds by it. */
export const previewOfLabel = 'm2-eks-pipeline.io/preview-of';

/** The label whose value tells the preview's pods from the web Deployment's. */
export const nameLabel = 'app.kubernetes.io/name';

const previewSuffix = '-preview';

/** The preview Deployment's name (and its pods' `app.kubernetes.io/name`). */
export const previewNameOf = (web: string): string => `${web}${previewSuffix}`;

/**
 * Whether the web Deployment wants a preview: `"true"` or no annotation yes, `"false"` no. Throws
 * PreflightError naming the Deployment and the annotation for anything else.
 */
export function previewWanted(target: string, annotations: Readonly<Record<string, string>>): boolean {
  const raw = annotations[previewAnnotation];
  if (raw === undefined || raw === 'true') return true;
  if (raw === 'false') return false;
  throw new PreflightError(
    `${target}: annotation ${previewAnnotation} must be "true" or "false" (is "${raw}")`,
  );
}

/**
 * The preview Deployment of `web` running `image` (in place of every container of `repository`):
 * one replica, the web pod template but for the images and `app.kubernetes.io/name`, owned by `web`
 * (deleting the shop deletes it), carrying the release and the web Deployment's smoke checks.
 * Throws PreflightError when the web Deployment's selector cannot be told apart that way.
 *
 * @example previewDeploymentFor(webDeployment, 'rel-1', 'repo/magento:2.4.8', 'repo/magento')
 */
export function previewDeploymentFor(
  web: V1Deployment,
  release: string,
  image: string,
  repository: string,
): V1Deployment {
  const webName = web.metadata?.name ?? '';
  const name = previewNameOf(webName);
  const target = `${web.metadata?.namespace ?? ''}/deployment/${webName}`;
  const selector = web.spec?.selector.matchLabels ?? {};
  // Only a selector on app.kubernetes.io/name can be made to miss the preview's pods by that label;
  // expressions could still match them, and an overlapping selector would count them as web's.
  if (!(nameLabel in selector) || (web.spec?.selector.matchExpressions ?? []).length > 0) {
    throw new PreflightError(
      `${target}: a preview needs the Deployment's selector to be matchLabels naming ${nameLabel}; ` +
        `set annotation ${previewAnnotation}: "false" to verify on the new ReplicaSet instead`,
    );
  }
  if (name.length > 63)
    throw new PreflightError(`${target}: the preview's name ${name} is over 63 characters`);
  const template = web.spec?.template;
  if (template === undefined) throw new PreflightError(`${target} has no pod template`);
  const swapped = withReleaseImage(template, repository, image);
  if (swapped.matched === 0) throw new PreflightError(`${target} runs no container of ${repository}`);
  const webAnnotations = web.metadata?.annotations ?? {};
  const smoke = Object.values(smokeAnnotations).flatMap((key) =>
    webAnnotations[key] === undefined ? [] : [[key, webAnnotations[key]] as const],
  );
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      labels: {
        [nameLabel]: name,
        'app.kubernetes.io/managed-by': 'm2-eks-pipeline',
        [previewOfLabel]: webName,
      },
      annotations: { [rolloutAnnotations.release]: release, ...Object.fromEntries(smoke) },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: webName,
          uid: web.metadata?.uid ?? '',
          controller: false,
          blockOwnerDeletion: false,
        },
      ],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { ...selector, [nameLabel]: name } },
      // One pod, replaced whole; no history to keep (the Deployment lives for one release).
      strategy: { type: 'Recreate' },
      revisionHistoryLimit: 0,
      ...(web.spec?.minReadySeconds === undefined ? {} : { minReadySeconds: web.spec.minReadySeconds }),
      template: {
        ...swapped.template,
        metadata: {
          ...swapped.template.metadata,
          labels: { ...swapped.template.metadata?.labels, [nameLabel]: name },
        },
      },
    },
  };
}

/** Whether a preview found in the cluster is this release's (else it is a leftover, replaced). */
export const isPreviewOf = (preview: V1Deployment, release: string): boolean =>
  preview.metadata?.annotations?.[rolloutAnnotations.release] === release;

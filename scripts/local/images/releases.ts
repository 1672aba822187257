/**
 * The release tags build-images.sh builds (MAGENTO_TAGS there; the behaviour of each is in the
 * stand-in's app/bootstrap.php). `2.4.8-pull-error` is deliberately never built: a pod naming it
 * gets a real ErrImagePull (localhost has no registry).
 */
export const releaseTags = [
  '2.4.7-p3',
  '2.4.8',
  '2.4.8-storefront-500',
  '2.4.8-crashloop',
  '2.4.8-never-ready',
  '2.4.8-job-fail',
  '2.4.8-drop-column',
  '2.4.8-cron-fail',
] as const;

export type ReleaseTag = (typeof releaseTags)[number] | '2.4.8-pull-error';

/** Name of the release images inside the nodes' containerd (every tag is imported from one archive). */
export const releaseRepository = 'localhost/m2/magento';

/** The image of a release tag; pods use it with imagePullPolicy: IfNotPresent or Never. */
export const releaseImage = (tag: ReleaseTag): string => `${releaseRepository}:${tag}`;

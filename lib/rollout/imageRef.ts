import type { V1PodTemplateSpec } from '@kubernetes/client-node';

/**
 * The repository of an image reference: without `@digest` and without `:tag` (a colon after the
 * last slash; a colon before it belongs to a registry port).
 *
 * @example imageRepository('123.dkr.ecr.us-east-1.amazonaws.com/magento:2.4.8') // '123.dkr.ecr.us-east-1.amazonaws.com/magento'
 */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The images of a pod template's containers (init containers first). */
const templateImages = (template: V1PodTemplateSpec): string[] =>
  [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])].map((c) => c.image ?? '');

/** The images of the template that belong to `repository` (the release image's). */
export const releaseImages = (template: V1PodTemplateSpec, repository: string): string[] =>
  templateImages(template).filter((image) => imageRepository(image) === repository);

/**
 * A copy of the template with every container of `repository` running `image` instead; other
 * containers (sidecars of other images) are kept. `changed` counts the containers that match.
 */
export function withReleaseImage(
  template: V1PodTemplateSpec,
  repository: string,
  image: string,
): { readonly template: V1PodTemplateSpec; readonly matched: number } {
  let matched = 0;
  const swap = <C extends { image?: string }>(containers: C[] | undefined): C[] | undefined =>
    containers?.map((c) => {
      if (c.image === undefined || imageRepository(c.image) !== repository) return c;
      matched++;
      return { ...c, image };
    });
  const spec = template.spec;
  if (spec === undefined) return { template, matched: 0 };
  const containers = swap(spec.containers) ?? [];
  const initContainers = swap(spec.initContainers);
  return {
    template: {
      ...template,
      spec: { ...spec, containers, ...(initContainers === undefined ? {} : { initContainers }) },
    },
    matched,
  };
}

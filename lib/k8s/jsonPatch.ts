import type { JsonPatchOperation } from './clusterClient.ts';

/** One reference token of a JSON Pointer (RFC 6901): "~" is escaped as "~0", "/" as "~1". */
const pointerToken = (token: string): string => token.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The JSON Pointer (RFC 6901) of one annotation, for JSON patches: annotation keys contain "/",
 * which a pointer escapes as "~1" (and "~" as "~0").
 *
 * @example annotationPath('kubernetes.io/change-cause') // '/metadata/annotations/kubernetes.io~1change-cause'
 */
export const annotationPath = (key: string): string => `/metadata/annotations/${pointerToken(key)}`;

/**
 * Sets the image of the container at `index` of the list at `listPath` (a pod spec's `containers` or
 * `initContainers`), conditional on that container still being `name` and running `from`: if either
 * changed since it was read (someone set another image, containers were added or reordered), the
 * apiserver refuses the whole patch (422) and writes none of it.
 *
 * @example containerImageOperations('/spec/template/spec/containers', 1, 'php-fpm', 'magento:2.4.7', 'magento:2.4.8')
 */
export function containerImageOperations(
  listPath: string,
  index: number,
  name: string,
  from: string,
  to: string,
): JsonPatchOperation[] {
  const container = `${listPath}/${index}`;
  return [
    { op: 'test', path: `${container}/name`, value: name },
    { op: 'test', path: `${container}/image`, value: from },
    { op: 'replace', path: `${container}/image`, value: to },
  ];
}

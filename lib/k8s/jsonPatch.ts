/**
 * The JSON Pointer (RFC 6901) of one annotation, for JSON patches: annotation keys contain "/",
 * which a pointer escapes as "~1" (and "~" as "~0").
 *
 * @example annotationPath('kubernetes.io/change-cause') // '/metadata/annotations/kubernetes.io~1change-cause'
 */
export const annotationPath = (key: string): string =>
  `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

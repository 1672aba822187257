/** HTTP status of an AWS SDK v3 error (`$metadata.httpStatusCode`), when it has one. */
export function httpStatus(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

import type { Tracer } from '@aws-lambda-powertools/tracer';
import { lambdaTelemetry } from './telemetry.ts';

/**
 * `client` with each of its calls recorded as an X-Ray subsegment (service, operation, status, retries)
 * by the functions' tracer; the same client, untouched, when tracing is off (outside Lambda). Capturing
 * again replaces the middleware, so a shared singleton may be captured by each function that uses it.
 *
 * @example const store = new S3ServedObjectStore(traced(s3Client()), bucket)
 */
export function traced<Client>(client: Client, tracer: Tracer = lambdaTelemetry.tracer): Client {
  return tracer.captureAWSv3Client(client);
}

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { Telemetry } from './telemetry.ts';

/**
 * What every handler gives `injectLambdaContext`: keys appended during an invocation are dropped
 * after it, and the event is never logged even if POWERTOOLS_LOGGER_LOG_EVENT is set (a CodePipeline
 * event carries artifact credentials, a function URL event signed URLs).
 */
const lambdaContextOptions = Object.freeze({ resetKeys: true, logEvent: false });

/**
 * The middlewares every function runs under, in this order: the Lambda context on every log line
 * (request id, function name, cold start), keys appended during the invocation dropped after it,
 * the event never logged; then the EMF metrics buffered during the invocation flushed when it ends,
 * whether it returned or threw; with a tracer, the invocation's X-Ray subsegment around both.
 *
 * @example export const handler = middy(handleEvent).use(telemetryMiddlewares(lambdaTelemetry))
 */
export function telemetryMiddlewares(telemetry: Telemetry): MiddlewareObj[] {
  return [
    // The response stays out of the trace: an image body, or a CodePipeline result, is not metadata.
    ...(telemetry.tracer === undefined
      ? []
      : [captureLambdaHandler(telemetry.tracer, { captureResponse: false })]),
    injectLambdaContext(telemetry.logger, lambdaContextOptions),
    logMetrics(telemetry.metrics),
  ];
}

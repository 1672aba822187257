import middy from '@middy/core';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import { type Telemetry, telemetryPorts } from '../observability/telemetry.ts';
import { telemetryMiddlewares } from '../observability/telemetryMiddlewares.ts';
import { parseFunctionUrlRequest, toFunctionUrlResult } from './functionUrl.ts';
import { type ServeSettings, serveImage } from './imageServer.ts';
import type { ServedObjectStore } from './servedObjectStore.ts';

export interface ImageServeHandlerDeps {
  readonly settings: ServeSettings;
  readonly store: ServedObjectStore;
  readonly telemetry: Telemetry;
}

/**
 * The imageServe Lambda handler: function URL (behind CloudFront) → one image, a 304, a redirect
 * or a plain-text refusal. Storage failures become a 500 inside `serveImage`; only an event that
 * is not a function URL request makes the invocation fail.
 *
 * @example export const handler = createImageServeHandler({ settings, store, telemetry: lambdaTelemetry })
 */
export function createImageServeHandler(deps: ImageServeHandlerDeps) {
  const serveDeps = { store: deps.store, ...telemetryPorts(deps.telemetry) };
  return middy(async (event: unknown): Promise<Exclude<LambdaFunctionURLResult, string>> => {
    const request = parseFunctionUrlRequest(event);
    return toFunctionUrlResult(await serveImage(request, deps.settings, serveDeps));
  }).use(telemetryMiddlewares(deps.telemetry));
}

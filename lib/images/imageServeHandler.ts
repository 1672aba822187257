import middy from '@middy/core';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import { messageOf } from '../common/messageOf.ts';
import { metricNames } from '../observability/metricNames.ts';
import { type Telemetry, telemetryPorts } from '../observability/telemetry.ts';
import { telemetryMiddlewares } from '../observability/telemetryMiddlewares.ts';
import { parseFunctionUrlRequest, toFunctionUrlResult } from './functionUrl.ts';
import { type ImageHttpRequest, type MagentoImages, type ServeSettings, serveImage } from './imageServer.ts';
import type { ServedObjectStore } from './servedObjectStore.ts';
import { serverError } from './serveResponses.ts';
import type { SigningKeySource } from './signingKeySource.ts';

export interface ImageServeHandlerDeps {
  readonly settings: ServeSettings;
  readonly store: ServedObjectStore;
  readonly telemetry: Telemetry;
  /** The shop's Magento hash table (see magentoImagesOf); absent: hash URLs are 404. */
  readonly magentoImages?: (() => Promise<MagentoImages>) | undefined;
  /** Signing on: every request is verified under the keys read from here (see signingKeySource.ts). */
  readonly signingKeys?: SigningKeySource | undefined;
}

/** Magento's `cache/<32 hex>/` segment in the request or the viewer request the edge forwarded. */
const magentoHashPath = /\/cache\/[0-9a-f]{32}\//;
const namesMagentoHash = (request: ImageHttpRequest): boolean =>
  magentoHashPath.test(request.viewerRequest?.rawPath ?? request.rawPath);

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
    let signingKeys = deps.settings.signingKeys;
    try {
      if (deps.signingKeys !== undefined) signingKeys = await deps.signingKeys.signingKeys();
    } catch (error) {
      // Fails closed: with signing configured, no request is answered without its keys (500, no-store).
      serveDeps.log.error('signing keys unavailable', { error: messageOf(error) });
      serveDeps.metrics.count(metricNames.imageServe.failed);
      return toFunctionUrlResult(serverError());
    }
    // Only a hash URL needs the table (and, for hmac-md5, the crypt key read behind it).
    const magentoCache =
      deps.magentoImages !== undefined && namesMagentoHash(request) ? await deps.magentoImages() : undefined;
    const settings = {
      ...deps.settings,
      signingKeys,
      ...(magentoCache === undefined ? {} : { magentoCache }),
    };
    return toFunctionUrlResult(await serveImage(request, settings, serveDeps));
  }).use(telemetryMiddlewares(deps.telemetry));
}

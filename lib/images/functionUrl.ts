import type { LambdaFunctionURLResult } from 'aws-lambda';
import { z } from 'zod';
import { InvalidEventError } from './errors.ts';
import type { ImageHttpRequest } from './imageServer.ts';
import type { HttpResponse } from './serveResponses.ts';

// The function URL payload (API Gateway v2 shape): only the fields we read, header names lowercase.
const functionUrlEvent = z.object({
  rawPath: z.string(),
  rawQueryString: z.string().default(''),
  headers: z.record(z.string(), z.string()).default({}),
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
});

/**
 * Set by CloudFront's viewer-request function: the viewer's path and rebuilt query, since the URI it
 * forwards is the canonical variant key (functions/cloudfront-image-request.mjs).
 */
const viewerRequestHeader = 'x-image-request';

/**
 * The image request in a Lambda function URL event (the payload CloudFront's origin request
 * becomes). Throws {@link InvalidEventError} naming the first problem for anything else.
 *
 * @example parseFunctionUrlRequest(event) // { method: 'GET', rawPath: '/media/…', rawQuery: 'width=640', accept: 'image/webp' }
 */
export function parseFunctionUrlRequest(event: unknown): ImageHttpRequest {
  const parsed = functionUrlEvent.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new InvalidEventError(
      `not a function URL event: ${field === '' ? '' : `${field}: `}${issue?.message ?? 'invalid'}`,
    );
  }
  const { rawPath, rawQueryString, headers, requestContext } = parsed.data;
  const viewer = headers[viewerRequestHeader];
  const query = viewer === undefined ? -1 : viewer.indexOf('?');
  return {
    method: requestContext.http.method,
    rawPath,
    rawQuery: rawQueryString,
    accept: headers.accept,
    ifNoneMatch: headers['if-none-match'],
    ...(viewer === undefined
      ? {}
      : {
          viewerRequest:
            query < 0
              ? { rawPath: viewer, rawQuery: '' }
              : { rawPath: viewer.slice(0, query), rawQuery: viewer.slice(query + 1) },
        }),
  };
}

/**
 * The function URL result for an HTTP response: binary bodies base64-encoded (a function URL
 * carries text only), text bodies as they are, no body at all for a 304 or a redirect.
 */
export function toFunctionUrlResult(response: HttpResponse): Exclude<LambdaFunctionURLResult, string> {
  const { status, headers, body } = response;
  const result = { statusCode: status, headers: { ...headers } };
  if (body === undefined) return result;
  return Buffer.isBuffer(body)
    ? { ...result, body: body.toString('base64'), isBase64Encoded: true }
    : { ...result, body, isBase64Encoded: false };
}

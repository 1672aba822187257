import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../../lib/images/errors.ts';
import { parseFunctionUrlRequest, toFunctionUrlResult } from '../../../lib/images/functionUrl.ts';

const sample: unknown = JSON.parse(
  readFileSync(new URL('../../../events/image-request.json', import.meta.url), 'utf8'),
);

describe('parseFunctionUrlRequest', () => {
  it('reads method, raw path and query, Accept and If-None-Match from the sample request', () => {
    // Act
    const request = parseFunctionUrlRequest(sample);

    // Assess
    expect(request).toEqual({
      method: 'GET',
      rawPath: '/media/catalog/product/m/b/mb01-blue%200.jpg',
      rawQuery: 'auto=webp&format=pjpg&width=640&height=800&fit=cover',
      accept: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
      ifNoneMatch: undefined,
    });
  });

  it('defaults a request without query or headers to an empty query and no preferences', () => {
    // Act
    const request = parseFunctionUrlRequest({
      rawPath: '/a.jpg',
      requestContext: { http: { method: 'HEAD' } },
    });

    // Assess
    expect(request).toEqual({
      method: 'HEAD',
      rawPath: '/a.jpg',
      rawQuery: '',
      accept: undefined,
      ifNoneMatch: undefined,
    });
  });

  it.each([
    ['no event', undefined, /^not a function URL event: Invalid input: expected object/],
    ['a string', 'GET /a.jpg', /^not a function URL event: Invalid input: expected object/],
    ['no raw path', { requestContext: { http: { method: 'GET' } } }, /^not a function URL event: rawPath: /],
    [
      'no method',
      { rawPath: '/a.jpg', requestContext: { http: {} } },
      /^not a function URL event: requestContext\.http\.method: /,
    ],
    [
      'a header that is not a string',
      { rawPath: '/a.jpg', headers: { accept: 1 }, requestContext: { http: { method: 'GET' } } },
      /^not a function URL event: headers\.accept: /,
    ],
  ])('refuses %s, naming the field', (_, event, message) => {
    // Act
    const parse = () => parseFunctionUrlRequest(event);

    // Assess
    expect(parse).toThrow(InvalidEventError);
    expect(parse).toThrow(message);
  });

  it('never quotes the event in its error', () => {
    // Prepare
    const event = {
      rawPath: 42,
      rawQueryString: 's=SECRET-SIGNATURE',
      requestContext: { http: { method: 'GET' } },
    };

    // Act
    const parse = () => parseFunctionUrlRequest(event);

    // Assess
    expect(parse).toThrow(InvalidEventError);
    expect(parse).not.toThrow(/SECRET-SIGNATURE/);
  });
});

describe('toFunctionUrlResult', () => {
  const headers = { 'content-type': 'image/webp', etag: '"v1"' };

  it.each([
    [
      'a binary body, base64-encoded',
      Buffer.from([0xff, 0xd8, 0xff, 0x00]),
      { body: '/9j/AA==', isBase64Encoded: true },
    ],
    [
      'a text body as it is',
      'invalid or missing signature\n',
      { body: 'invalid or missing signature\n', isBase64Encoded: false },
    ],
    ['an empty binary body as an empty base64 string', Buffer.alloc(0), { body: '', isBase64Encoded: true }],
    ['no body, without body fields', undefined, {}],
  ])('carries %s', (_, body, expected) => {
    // Act
    const result = toFunctionUrlResult({ status: 200, headers, body });

    // Assess
    expect(result).toEqual({ statusCode: 200, headers, ...expected });
  });

  it('copies the headers rather than sharing them', () => {
    // Prepare
    const response = { status: 304, headers: Object.freeze({ etag: '"v1"' }) };

    // Act
    const result = toFunctionUrlResult(response);

    // Assess
    expect(result.headers).toEqual({ etag: '"v1"' });
    expect(result.headers).not.toBe(response.headers);
  });
});

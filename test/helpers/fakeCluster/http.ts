import type { ProxiedResponse } from '../../../lib/k8s/clusterClient.ts';

/** What a web container running an image answers for a path (query included). */
export type HttpBehaviour = (path: string) => ProxiedResponse;

const page = (title: string, body = ''): string =>
  `<!doctype html><html><head><title>${title}</title>` +
  '<link rel="stylesheet" href="/static/version1746464646/frontend/Magento/luma/en_US/css/styles-m.css">' +
  `</head><body><h1>${title}</h1>${body}</body></html>`;

const html = (status: number, body: string): ProxiedResponse => ({
  status,
  contentType: 'text/html; charset=utf-8',
  body,
});

/**
 * The Magento stand-in's storefront (scripts/local/standin/pub/index.php, nginx.conf.sample): pages,
 * /graphql and versioned static files; `storefront-500` answers every page with Magento's error page.
 */
function standIn(storefront500: boolean): HttpBehaviour {
  return (path) => {
    const pathname = path.split('?')[0] ?? path;
    if (pathname.startsWith('/static/')) {
      return pathname.endsWith('.css')
        ? { status: 200, contentType: 'text/css', body: 'body{margin:0}' }
        : html(404, '<html><body>404 Not Found</body></html>');
    }
    if (pathname === '/healthz') return { status: 200, contentType: 'text/plain', body: 'pong' };
    if (storefront500) return html(500, page('There has been an error processing your request'));
    if (pathname === '/graphql') {
      return {
        status: 200,
        contentType: 'application/json; charset=utf-8',
        body: '{"data":{"products":{"items":[{"sku":"24-MB01","name":"Joust Duffle Bag"}]}}}',
      };
    }
    if (pathname === '/') return html(200, page('Home page', '<ul class="products"></ul>'));
    return html(404, page('404 Not Found'));
  };
}

/** Which HTTP behaviour a container gets: one registered for its image, else what its name asks for. */
export class HttpBehaviours {
  readonly #byImage = new Map<string, HttpBehaviour>();

  set(image: string, behaviour: HttpBehaviour): void {
    this.#byImage.set(image, behaviour);
  }

  of(image: string): HttpBehaviour {
    return this.#byImage.get(image) ?? standIn(image.includes('storefront-500'));
  }
}

/** The apiserver's own answer when the proxy cannot reach a backend (a `Status`, as the real one sends). */
export const proxyStatus = (status: number, reason: string, message: string): ProxiedResponse => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code: status,
  }),
});

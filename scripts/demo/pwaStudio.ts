import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * How a PWA Studio storefront reaches its images (PWA Studio's own names):
 * - `onboard`: UPWARD on the storefront's origin optimises images: relative `/media/…?width=…` URLs;
 * - `backend`: `data-image-optimizing-origin="backend"`: absolute URLs on Magento's media base;
 * - `cdn`: the media base URL is a CDN origin of its own (`https://cdn.test/media/`).
 */
export type MediaSetup = 'onboard' | 'backend' | 'cdn';

export const storefrontOrigin = 'https://pwa.test';
export const backendUrl = 'https://backend.test/';
const mediaBaseOf: Readonly<Record<MediaSetup, string>> = {
  onboard: `${backendUrl}media/`,
  backend: `${backendUrl}media/`,
  cdn: 'https://cdn.test/media/',
};

export interface MakeUrlOptions {
  readonly type: 'image-product' | 'image-category' | 'image-swatch';
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly quality?: number | undefined;
  readonly fit?: 'bounds' | 'cover' | 'crop' | undefined;
}

/** PWA Studio's own image URL code (@magento/peregrine's makeUrl and imageUtils), unmodified. */
export interface PwaStudio {
  readonly setup: MediaSetup;
  makeUrl(path: string, options: MakeUrlOptions): string;
  /** Venia's `srcset`: one URL per peregrine image width at the given ratio (default 4:5). */
  generateSrcset(path: string, type: MakeUrlOptions['type'], ratio?: number): string;
}

const peregrineDir = join(
  import.meta.dirname,
  '../../test/clients/pwa-studio/node_modules/@magento/peregrine/lib',
);
let hooked = false;

/**
 * Imports one of peregrine's modules (`util/makeUrl.js`, `talons/Image/useImage.js`) as a fresh
 * instance named `instance`, as a browser bundle would see it. Peregrine's modules are ESM with
 * extensionless and directory imports (webpack resolves those) and read the store's globals once, at
 * import time; so a resolve hook adds `.js` / `/index.js`, carries the instance from a peregrine
 * module to the peregrine modules it imports. (Under vitest, vite resolves peregrine's imports
 * itself.) The talons get React from test/clients/pwa-studio/react-sync. Needs
 * `node scripts/install-test-clients.mjs`.
 */
export async function importPeregrine(file: string, instance: string): Promise<Record<string, unknown>> {
  if (!hooked) {
    registerHooks({ resolve: resolveLikeWebpack });
    hooked = true;
  }
  const url = `${pathToFileURL(join(peregrineDir, file)).href}?instance=${encodeURIComponent(instance)}`;
  return (await import(url)) as Record<string, unknown>;
}

/**
 * Loads peregrine's makeUrl and imageUtils for one setup.
 *
 * @example (await loadPwaStudio('onboard')).makeUrl('/m/b/mb01.jpg', { type: 'image-product', width: 640 })
 */
export async function loadPwaStudio(setup: MediaSetup): Promise<PwaStudio> {
  const globals = globalThis as Record<string, unknown>;
  globals.STORE_VIEW_CODE = 'default';
  globals.AVAILABLE_STORE_VIEWS = [{ store_code: 'default', secure_base_media_url: mediaBaseOf[setup] }];
  globals.location = new URL(`${storefrontOrigin}/`);
  globals.document = {
    documentElement: { dataset: setup === 'backend' ? { imageOptimizingOrigin: 'backend' } : {} },
  };
  process.env.MAGENTO_BACKEND_URL = backendUrl;
  try {
    const makeUrl = (await importPeregrine('util/makeUrl.js', setup)) as { default: PwaStudio['makeUrl'] };
    const utils = (await importPeregrine('util/imageUtils.js', setup)) as {
      generateSrcset: PwaStudio['generateSrcset'];
    };
    return {
      setup,
      makeUrl: (path, options) => inBrowser(() => makeUrl.default(path, options)),
      generateSrcset: (path, type, ratio) => inBrowser(() => utils.generateSrcset(path, type, ratio)),
    };
  } finally {
    delete globals.document;
    delete globals.location;
  }
}

/** makeUrl reads `location` on every call; nothing else in the process should see a fake browser. */
function inBrowser<T>(work: () => T): T {
  const globals = globalThis as Record<string, unknown>;
  globals.location = new URL(`${storefrontOrigin}/`);
  try {
    return work();
  } finally {
    delete globals.location;
  }
}

type Resolve = Parameters<typeof registerHooks>[0]['resolve'] & {};

const resolveLikeWebpack: Resolve = (specifier, context, nextResolve) => {
  const parent = context.parentURL ?? '';
  const fromPeregrine = parent.includes('/@magento/peregrine/');
  if (!fromPeregrine) return nextResolve(specifier, context);
  const query = parent.includes('?') ? parent.slice(parent.indexOf('?')) : '';
  let failure: unknown;
  for (const candidate of [specifier, `${specifier}.js`, `${specifier}/index.js`]) {
    try {
      const resolved = nextResolve(candidate, context);
      const own = resolved.url.includes('/@magento/peregrine/') && !resolved.url.includes('?');
      return own ? { ...resolved, url: `${resolved.url}${query}` } : resolved;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
};

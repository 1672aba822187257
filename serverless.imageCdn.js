// The CloudFront viewer-request function as deployed (serverless.yml ImageCdnRequestFunction): the
// readable source functions/cloudfront-image-request.mjs with the media layout of this stage put into
// its constants (so the edge keys and signs exactly what imageServe does, by construction), then
// whitespace- and syntax-minified with esbuild to stay under CloudFront Functions' 10 KB code limit
// (test/unit/images/cloudfrontFunction.test.ts measures the output). Identifiers are kept:
// CloudFront calls `handler` by name.
import { readFileSync } from 'node:fs';
import { transformSync } from 'esbuild';

const source = new URL('./functions/cloudfront-image-request.mjs', import.meta.url);

/**
 * The function code for a media layout: `mediaPrefix` (key of Magento's media directory), `roots`
 * (media folders with originals) and `derivedPrefix` (URL path of the variants, below the origin path).
 */
export function cloudfrontFunctionCode({ mediaPrefix, roots, derivedPrefix }) {
  const code = readFileSync(source, 'utf8')
    .replace(/^const MEDIA_PREFIX = .*;$/m, `const MEDIA_PREFIX = ${JSON.stringify(mediaPrefix)};`)
    .replace(/^const ROOTS = .*;$/m, `const ROOTS = ${JSON.stringify(roots)};`)
    .replace(/^const DERIVED = .*;$/m, `const DERIVED = ${JSON.stringify(derivedPrefix)};`);
  // Template literals lowered to concatenation: serverless reads a resolver's `${…}` as its variables.
  // Destructuring lowered too: runtime 2.0 lists const/let, arrows, async/await, not destructuring.
  return transformSync(code, {
    format: 'esm',
    minifyWhitespace: true,
    minifySyntax: true,
    treeShaking: false,
    supported: { 'template-literal': false, destructuring: false },
  }).code;
}

/** A stage param, or `fallback` for a stage whose params predate it. */
async function param(resolveVariable, name, fallback) {
  try {
    const value = await resolveVariable(`param:${name}`);
    return value === undefined || value === null ? fallback : String(value);
  } catch (error) {
    if (fallback === undefined) throw error;
    return fallback;
  }
}

/** serverless.yml `${file(./serverless.imageCdn.js):functionCode}`: the params imageServe's environment gets. */
export async function functionCode({ resolveVariable }) {
  const storagePrefix = await param(resolveVariable, 'mediaStoragePrefix', '');
  const derived = await param(resolveVariable, 'derivedPrefix');
  const roots = await param(resolveVariable, 'mediaRoots', await param(resolveVariable, 'originalsPrefix'));
  return cloudfrontFunctionCode({
    mediaPrefix: await param(resolveVariable, 'mediaKeyPrefix', ''),
    roots: roots.split(',').map((root) => root.trim()),
    // The S3 origin's OriginPath is the storage prefix, so variant URLs are below it.
    derivedPrefix: derived.startsWith(storagePrefix) ? derived.slice(storagePrefix.length) : derived,
  });
}

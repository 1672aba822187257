import { fastlyUrls } from './fastly.ts';
import type { CorpusUrl } from './intent.ts';
import { type CacheHashLookup, lumaImageSizes, magentoHashUrls, magentoParamsUrls } from './magento.ts';
import { pwaSetups, pwaStudioUrls, storefrontOriginals } from './pwaStudio.ts';

const shopMedia = 'https://shop.example.com/media/';
const productOriginals = [storefrontOriginals.product, storefrontOriginals.productPng];

/**
 * Every URL form the storefront emits: PWA Studio's in its three setups × the shop's three media URL
 * modes, Magento's own hash and image_optimization_parameters URLs, and Magento's Fastly module.
 * `hashOf` is the Magento cache-hash table (hash URLs are left out for images it does not know).
 *
 * @example const corpus = await storefrontCorpus(() => undefined) // every form but the hash ones
 */
export async function storefrontCorpus(hashOf: CacheHashLookup): Promise<CorpusUrl[]> {
  const pwa: CorpusUrl[] = [];
  for (const setup of pwaSetups) {
    for (const mode of ['hash', 'params', 'fastly'] as const)
      pwa.push(...(await pwaStudioUrls(setup, mode, hashOf)));
  }
  const seen = new Set<string>();
  return [
    ...pwa,
    ...magentoHashUrls(shopMedia, productOriginals, lumaImageSizes, hashOf),
    ...magentoParamsUrls(shopMedia, productOriginals, lumaImageSizes),
    ...fastlyUrls(shopMedia, productOriginals, lumaImageSizes),
  ].filter((entry) => {
    // The same URL from two call sites is one request: the first source names it.
    const key = `${entry.form} ${entry.url}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

import type { BundleSetting, SourceMapKind } from './slsBundles.ts';

/** One way of starting a function's bundle that the bench measures. */
export interface Variant {
  readonly id: string;
  readonly setting: BundleSetting;
}

const variant = (minify: boolean, sourcemap: SourceMapKind, enableSourceMaps: boolean): Variant => ({
  id: `${minify ? 'min' : 'plain'}-${sourcemap}${enableSourceMaps ? '-flag' : ''}`,
  setting: { minify, sourcemap, enableSourceMaps },
});

/**
 * {minify off, on} × {no map read; full map with --enable-source-maps; map without sourcesContent with
 * it}. Without the flag Node never opens the map, so "no map" and "a map, no flag" start alike (the first
 * runs measured them apart: equal within noise, same RSS) and are one variant here.
 */
export const variants: readonly Variant[] = [false, true].flatMap((minify) => [
  variant(minify, 'none', false),
  variant(minify, 'full', true),
  variant(minify, 'noSourcesContent', true),
]);

/** The setting every function shipped with before this bench: unminified, full map, --enable-source-maps. */
export const before: BundleSetting = { minify: false, sourcemap: 'full', enableSourceMaps: true };

/** The measured variant a setting starts like: a map is read only with the flag, and the flag only reads a map. */
export function variantOf(setting: BundleSetting): Variant | undefined {
  const readsMap = setting.enableSourceMaps && setting.sourcemap !== 'none';
  return variants.find(
    (v) =>
      v.setting.minify === setting.minify &&
      v.setting.enableSourceMaps === readsMap &&
      (!readsMap || v.setting.sourcemap === setting.sourcemap),
  );
}

const runTimeLabel: Record<SourceMapKind, string> = {
  none: 'none read (no map, or no --enable-source-maps)',
  full: 'full map + --enable-source-maps',
  noSourcesContent: 'map w/o sourcesContent + --enable-source-maps',
};

/** What a variant's process does with a source map. */
export const runTimeLabelOf = (setting: BundleSetting): string => runTimeLabel[setting.sourcemap];

/** Directory name of a variant's files (the flag changes nothing in them). */
export const filesIdOf = (setting: Pick<BundleSetting, 'minify' | 'sourcemap'>): string =>
  `${setting.minify ? 'min' : 'plain'}-${setting.sourcemap}`;

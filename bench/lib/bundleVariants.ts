import type { BundleSetting, SourceMapKind } from './slsBundles.ts';

/** One way of bundling and starting a function that the bench measures. */
export interface Variant {
  readonly id: string;
  readonly setting: BundleSetting;
}

const sourceMapLabel: Record<SourceMapKind, string> = {
  none: 'no map',
  full: 'map',
  noSourcesContent: 'map w/o sourcesContent',
};

const variant = (minify: boolean, sourcemap: SourceMapKind, enableSourceMaps: boolean): Variant => ({
  id: `${minify ? 'min' : 'plain'}-${sourcemap}${enableSourceMaps ? '-flag' : ''}`,
  setting: { minify, sourcemap, enableSourceMaps },
});

/**
 * {minify off, on} × {no map; map started without and with --enable-source-maps; a map without
 * sourcesContent started with it}. A map nobody reads costs no memory, so the flag without one is left out.
 */
export const variants: readonly Variant[] = [false, true].flatMap((minify) => [
  variant(minify, 'none', false),
  variant(minify, 'full', false),
  variant(minify, 'full', true),
  variant(minify, 'noSourcesContent', true),
]);

/** The setting every function shipped with before this bench: unminified, full map, --enable-source-maps. */
export const before: BundleSetting = { minify: false, sourcemap: 'full', enableSourceMaps: true };

export const sameSetting = (a: BundleSetting, b: BundleSetting): boolean =>
  a.minify === b.minify && a.sourcemap === b.sourcemap && a.enableSourceMaps === b.enableSourceMaps;

/** `minify on · map w/o sourcesContent · --enable-source-maps` */
export function settingLabel(setting: BundleSetting): string {
  return [
    setting.minify ? 'minify on' : 'minify off',
    sourceMapLabel[setting.sourcemap],
    ...(setting.enableSourceMaps ? ['--enable-source-maps'] : []),
  ].join(' · ');
}

/** The esbuild build a setting needs (the flag changes nothing in the bundle). */
export const buildIdOf = (setting: BundleSetting): string =>
  `${setting.minify ? 'min' : 'plain'}-${setting.sourcemap}`;

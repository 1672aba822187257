import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { filesIdOf } from './bundleVariants.ts';
import { type FunctionUnderTest, repoRoot, type SourceMapKind } from './slsBundles.ts';

/** Bytes of a function's bundle, minified or not, and of its map with and without the sources' text. */
export interface BundleSizes {
  readonly jsBytes: number;
  readonly mapBytes: number;
  readonly mapWithoutSourcesBytes: number;
}

/** A function's bundles on disk, or why it did not build. */
export type BuiltFunction =
  | { readonly ok: true; readonly plain: BundleSizes; readonly minified: BundleSizes }
  | { readonly ok: false; readonly failure: string };

/** A function's bundle, minified or not, with its full source map, as esbuild returned it. */
interface Output {
  readonly js: string;
  readonly map: string;
}

const dirOf = (outDir: string, minify: boolean, sourcemap: SourceMapKind): string =>
  join(outDir, filesIdOf({ minify, sourcemap }), 'functions');
const baseName = (entry: string): string => entry.replace(/^.*\//, '').replace(/\.ts$/, '');

/** Where a variant's bundle of `fn` lies (as serverless-esbuild lays it out: functions/<name>.js). */
export const bundlePathOf = (
  outDir: string,
  fn: FunctionUnderTest,
  minify: boolean,
  sourcemap: SourceMapKind,
): string => join(dirOf(outDir, minify, sourcemap), `${baseName(fn.entry)}.js`);

/** One esbuild build of a function with the options serverless-esbuild passes, plus minify and a map. */
async function bundleOnce(
  outDir: string,
  base: BuildOptions,
  fn: FunctionUnderTest,
  minify: boolean,
): Promise<Output> {
  const result = await build({
    ...base,
    minify,
    // The full map, whatever serverless.yml says about sourcesContent: the variants without it derive from it.
    sourcemap: true,
    sourcesContent: true,
    entryPoints: [join(repoRoot, fn.entry)],
    outdir: dirOf(outDir, minify, 'full'),
    absWorkingDir: repoRoot,
    write: false,
    logLevel: 'silent',
  });
  const text = (suffix: string): string => {
    const file = result.outputFiles.find((f) => f.path.endsWith(suffix));
    if (file === undefined) throw new Error(`esbuild wrote no ${suffix} for ${fn.entry}`);
    return file.text;
  };
  return { js: text('.js'), map: text('.js.map') };
}

/**
 * Writes the three file sets of a build (no map, full map, map without sourcesContent), derived from the
 * build with a full map: esbuild 0.28's output with `sourcemap: false` is that bundle without its
 * sourceMappingURL line, and its map with `sourcesContent: false` is that map without its
 * sourcesContent line (checked byte for byte), so one build per minify setting serves all three.
 */
function writeFiles(outDir: string, fn: FunctionUnderTest, minify: boolean, output: Output): BundleSizes {
  const path = (sourcemap: SourceMapKind): string => {
    mkdirSync(dirOf(outDir, minify, sourcemap), { recursive: true });
    return bundlePathOf(outDir, fn, minify, sourcemap);
  };
  const mapWithoutSources = output.map
    .split('\n')
    .filter((line) => !line.startsWith('  "sourcesContent": '))
    .join('\n');
  writeFileSync(path('none'), output.js.replace(/\/\/# sourceMappingURL=[^\n]*\n?$/, ''));
  writeFileSync(path('full'), output.js);
  writeFileSync(`${path('full')}.map`, output.map);
  writeFileSync(path('noSourcesContent'), output.js);
  writeFileSync(`${path('noSourcesContent')}.map`, mapWithoutSources);
  return {
    jsBytes: Buffer.byteLength(output.js),
    mapBytes: Buffer.byteLength(output.map),
    mapWithoutSourcesBytes: Buffer.byteLength(mapWithoutSources),
  };
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** esbuild's first error with its place, or the error's first line. */
function buildError(error: unknown): string {
  const first = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] })
    .errors?.[0];
  if (first === undefined) return firstLine(error);
  return first.location ? `${first.location.file}:${first.location.line}: ${first.text}` : first.text;
}

/** Builds a function minified and not (concurrently) into `outDir`; a build error is returned, not thrown. */
export async function buildFunction(
  outDir: string,
  base: BuildOptions,
  fn: FunctionUnderTest,
): Promise<BuiltFunction> {
  try {
    const [plain, minified] = await Promise.all([
      bundleOnce(outDir, base, fn, false),
      bundleOnce(outDir, base, fn, true),
    ]);
    return {
      ok: true,
      plain: writeFiles(outDir, fn, false, plain),
      minified: writeFiles(outDir, fn, true, minified),
    };
  } catch (error) {
    return { ok: false, failure: buildError(error) };
  }
}

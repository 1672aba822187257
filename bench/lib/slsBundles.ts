import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { parse } from 'yaml';
import { functionSettings } from '../../scripts/demo/functionEnv.ts';
import type { FunctionName } from '../../scripts/demo/lambdaHost.ts';

export const repoRoot = join(import.meta.dirname, '..', '..');

/** `noSourcesContent`: a map without the sources' text (esbuild `sourcesContent: false`). */
export type SourceMapKind = 'none' | 'full' | 'noSourcesContent';

/** How a function is bundled and started: the two esbuild switches and the Node flag. */
export interface BundleSetting {
  readonly minify: boolean;
  readonly sourcemap: SourceMapKind;
  readonly enableSourceMaps: boolean;
}

/** A function of serverless.yml as the bench builds and starts it. */
export interface FunctionUnderTest {
  readonly name: FunctionName;
  /** The handler's source file, relative to the repository (how serverless-esbuild finds it). */
  readonly entry: string;
  readonly memoryMb: number;
  /** Its environment in AWS without NODE_OPTIONS (each variant sets its own). */
  readonly env: Readonly<Record<string, string>>;
  /** What serverless.yml deploys today. */
  readonly deployed: BundleSetting;
}

interface ServerlessDoc {
  readonly custom?: { readonly esbuild?: Record<string, unknown> };
  readonly functions?: Record<string, { readonly handler?: string }>;
}

/**
 * Keys of custom.esbuild that serverless-esbuild 1.57 consumes itself and removes before it calls
 * esbuild (dist/bundle.js); everything else goes to esbuild as it stands in serverless.yml.
 */
const pluginOnlyKeys = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
]);

const stringsOf = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');

function readDoc(yamlText: string): ServerlessDoc {
  // logLevel error: the CloudFormation short forms (!Sub, !GetAtt …) stay unresolved strings, unremarked.
  return parse(yamlText, { logLevel: 'error' }) as ServerlessDoc;
}

/**
 * The options serverless-esbuild hands esbuild for every function: custom.esbuild without the
 * plugin's own keys, `external` extended by `exclude` (the plugin's default: aws-sdk).
 */
export function esbuildOptionsOf(yamlText: string): BuildOptions {
  const custom = readDoc(yamlText).custom?.esbuild ?? {};
  const options = Object.fromEntries(Object.entries(custom).filter(([key]) => !pluginOnlyKeys.has(key)));
  const exclude = 'exclude' in custom ? stringsOf(custom.exclude) : ['aws-sdk'];
  return {
    bundle: true,
    platform: 'node',
    ...options,
    external: [...stringsOf(custom.external), ...(exclude.includes('*') ? [] : exclude)],
  } as BuildOptions;
}

function sourceMapKindOf(esbuild: Record<string, unknown>): SourceMapKind {
  const sourcemap = esbuild.sourcemap;
  if (sourcemap === undefined || sourcemap === false) return 'none';
  return esbuild.sourcesContent === false ? 'noSourcesContent' : 'full';
}

/** The handler's source file: the handler path without its export name, as a .ts file. */
function entryOf(name: string, handler: string | undefined): string {
  if (handler === undefined) throw new Error(`serverless.yml: function ${name} has no handler`);
  const entry = `${handler.slice(0, handler.lastIndexOf('.'))}.ts`;
  if (!existsSync(join(repoRoot, entry)))
    throw new Error(`serverless.yml: ${name}'s entry ${entry} is missing`);
  return entry;
}

/** The functions of serverless.yml with their entries, environment (stage defaults) and deployed setting. */
export function functionsOf(
  names: readonly FunctionName[],
  yamlText: string = readFileSync(join(repoRoot, 'serverless.yml'), 'utf8'),
): FunctionUnderTest[] {
  const doc = readDoc(yamlText);
  const esbuild = doc.custom?.esbuild ?? {};
  return names.map((name) => {
    // No process environment: the stage's defaults, not whatever this shell has exported.
    const settings = functionSettings(name, {}, yamlText);
    // EKS_ASSUME_ROLE_ARN is the demo's stand-in for the Lambda role; AWS sets none.
    const { NODE_OPTIONS: nodeOptions = '', EKS_ASSUME_ROLE_ARN: _role, ...env } = settings.env;
    return {
      name,
      entry: entryOf(name, doc.functions?.[name]?.handler),
      memoryMb: settings.memoryMb,
      env,
      deployed: {
        minify: esbuild.minify === true,
        sourcemap: sourceMapKindOf(esbuild),
        enableSourceMaps: nodeOptions.split(/\s+/).includes('--enable-source-maps'),
      },
    };
  });
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localDir } from './proc.ts';

/** Writes `.local/env`, the file a shell sources to talk to the embedded environment. */
export function writeEnvFile(vars: Record<string, string>): string {
  mkdirSync(localDir, { recursive: true });
  const file = join(localDir, 'env');
  const lines = Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  writeFileSync(file, `# written by npm run local:up\n${lines.join('\n')}\n`);
  return file;
}

const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

// The shop theme's view.xml files (stage param `magentoViewXml`: paths in this repository, comma-separated,
// parent theme first), packaged with the two image functions at the same relative paths, which reach them
// as MAGENTO_VIEW_XML (lib/config/magentoTheme.ts reads them at cold start). Their content does not go
// through the environment: Lambda allows 4 KB of it in all, and one theme's view.xml is about 10 KB.

import { existsSync, statSync } from 'node:fs';

const pathPattern = /^[\w.@-]+(?:\/[\w.@-]+)*\.xml$/;

async function viewXmlFiles(resolveVariable) {
  const files = String((await resolveVariable('param:magentoViewXml')) ?? '')
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file !== '');
  for (const file of files) {
    // The same rule the functions apply (MAGENTO_VIEW_XML), so a bad path fails `sls package`, not a cold start.
    if (!pathPattern.test(file) || file.split('/').includes('..')) {
      throw new Error(
        `param magentoViewXml: '${file}' must be a path to an .xml file relative to the service directory, without '..'`,
      );
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new Error(`param magentoViewXml: '${file}' is not a file in ${process.cwd()}`);
    }
  }
  return files;
}

/** The image functions' package.patterns: exactly the named files (globby escapes nothing else here). */
export async function patterns({ resolveVariable }) {
  return viewXmlFiles(resolveVariable);
}

/**
 * The service-level package.patterns: the same files, but only for `sls invoke local`. serverless-esbuild
 * 1.57 copies function-level patterns into `.esbuild/.build/__only_<function>/`, while invoke local runs
 * the handler in `.esbuild/.build` itself, where MAGENTO_VIEW_XML would name nothing (ENOENT at cold
 * start). For package and deploy this stays empty, so the other two functions never carry the theme.
 */
export async function invokeLocalPatterns({ resolveVariable }) {
  const command = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  return command[0] === 'invoke' && command[1] === 'local' ? viewXmlFiles(resolveVariable) : [];
}

/** MAGENTO_VIEW_XML: the same paths, now inside the package (Lambda starts the function in its root). */
export async function environment({ resolveVariable }) {
  return (await viewXmlFiles(resolveVariable)).join(',');
}

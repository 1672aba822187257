import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { lumaTheme } from '../images/magento/lumaImages.ts';
import { mergeViewXml, parseViewXml, type ViewXmlTheme } from '../images/magento/viewXml.ts';
import { InvalidConfigFileError } from './errors.ts';

/** How the function reads a file of its own package (injected so a test can name a missing one). */
export interface PackageFiles {
  /** The package root the paths are relative to; in Lambda the working directory, /var/task. */
  readonly root: string;
  read(path: string): string;
}

/** The function's own package: paths relative to the working directory (Lambda starts in /var/task). */
export const packageFiles: PackageFiles = {
  root: process.cwd(),
  read: (path) => readFileSync(path, 'utf8'),
};

/**
 * The shop's effective view.xml: Luma (Magento_Blank + Magento_Luma, lumaImages.ts) with the shop's own
 * files laid over it in order, parent theme first — the order Magento\Framework\Config\View::read merges a
 * theme's ancestors in (array_replace_recursive, oldest first, the theme's own file last). No files: Luma.
 * Read once at cold start: a missing file or one Magento would not read as meant fails the start naming
 * `MAGENTO_VIEW_XML` and the file, instead of every request.
 *
 * @example loadMagentoTheme(['app/design/frontend/Acme/shop/etc/view.xml']).images.get('category_page_grid')
 */
export function loadMagentoTheme(files: readonly string[], from: PackageFiles = packageFiles): ViewXmlTheme {
  let theme = lumaTheme;
  for (const file of files) {
    let xml: string;
    try {
      xml = from.read(resolve(from.root, file));
    } catch (error) {
      throw new InvalidConfigFileError(
        'MAGENTO_VIEW_XML',
        file,
        `cannot be read from the package (${(error as NodeJS.ErrnoException).code ?? 'error'}); is it in magentoViewXml?`,
        { cause: error },
      );
    }
    try {
      theme = mergeViewXml(theme, parseViewXml(xml));
    } catch (error) {
      throw new InvalidConfigFileError('MAGENTO_VIEW_XML', file, (error as Error).message, { cause: error });
    }
  }
  return theme;
}

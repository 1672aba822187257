import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidConfigFileError } from '../../../lib/config/errors.ts';
import { loadImageServeConfig } from '../../../lib/config/imageServeConfig.ts';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';
import { loadMagentoTheme, type PackageFiles } from '../../../lib/config/magentoTheme.ts';
import { buildCacheTable } from '../../../lib/images/magento/cacheTable.ts';
import { ViewXmlError } from '../../../lib/images/magento/errors.ts';
import { lumaImages, lumaTheme } from '../../../lib/images/magento/lumaImages.ts';

const childTheme = 'test/fixtures/images/themes/Acme/child/etc/view.xml';

const view = (images: string) =>
  `<?xml version="1.0"?><view><media><images module="Magento_Catalog">${images}</images></media></view>`;
const medium = (size: number) =>
  `<image id="product_page_image_medium" type="image"><width>${size}</width><height>${size}</height></image>`;

/** A package of in-memory files under /var/task, as Lambda lays the zip out. */
const memoryPackage = (files: Record<string, string>): PackageFiles => ({
  root: '/var/task',
  read(path) {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  },
});

const thrown = (act: () => unknown): unknown => {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('loadMagentoTheme', () => {
  it('is Luma when the shop names no files', () => {
    expect(loadMagentoTheme([])).toBe(lumaTheme);
  });

  it("lays the shop's child theme over Luma: changed sizes, its own ids, Luma's others", () => {
    // Act (the fixture read from the repository, as from the package root)
    const theme = loadMagentoTheme([childTheme]);

    // Assess
    expect(theme.images.get('product_page_image_medium')).toEqual({
      id: 'product_page_image_medium',
      type: 'image',
      width: 800,
      height: 800,
    });
    expect(theme.images.get('acme_listing_wide')).toEqual({
      id: 'acme_listing_wide',
      type: 'small_image',
      width: 400,
      height: 200,
      frame: false,
    });
    expect(theme.images.size).toBe(lumaImages.length + 1);
    expect(theme.images.get('category_page_grid')).toEqual(lumaTheme.images.get('category_page_grid'));
    expect(theme.productImageWhiteBorders).toBe(true);
  });

  it("makes the hash of the theme's sizes answerable and Luma's replaced size not", () => {
    // Prepare
    const sizesOf = (theme: typeof lumaTheme) =>
      [...buildCacheTable({ theme, algorithm: 'md5' }).entries.values()].map(
        (i) => `${i.width}x${i.height}:${i.keepFrame}`,
      );

    // Act
    const shop = sizesOf(loadMagentoTheme([childTheme]));
    const luma = sizesOf(lumaTheme);

    // Assess (700x700 was only product_page_image_medium's)
    expect(luma).toContain('700x700:true');
    expect(shop).not.toContain('700x700:true');
    expect(shop).toEqual(expect.arrayContaining(['800x800:true', '400x200:false']));
  });

  it.each([
    [['base.xml', 'child.xml'], 800],
    [['child.xml', 'base.xml'], 750],
  ])('merges %o in order, parent first (the last file wins)', (files, width) => {
    const from = memoryPackage({
      '/var/task/base.xml': view(medium(750)),
      '/var/task/child.xml': view(medium(800)),
    });
    expect(loadMagentoTheme(files, from).images.get('product_page_image_medium')?.width).toBe(width);
  });

  it.each([
    ['a file missing from the package', 'theme/missing.xml', undefined],
    ['a file that is not XML', 'theme/broken.xml', ViewXmlError],
    ['an unknown element', 'theme/unknown.xml', ViewXmlError],
  ])('fails the cold start on %s, naming the variable and the file', (_name, file, causeType) => {
    // Prepare
    const from = memoryPackage({
      '/var/task/theme/broken.xml': '<view><media>',
      '/var/task/theme/unknown.xml': view('<image id="zoom" type="image"><angle>90</angle></image>'),
    });

    // Act
    const error = thrown(() => loadMagentoTheme([file], from));

    // Assess
    expect(error).toBeInstanceOf(InvalidConfigFileError);
    expect(error).toMatchObject({ variables: ['MAGENTO_VIEW_XML'], file });
    expect((error as Error).message).toContain(`MAGENTO_VIEW_XML: ${file}: `);
    if (causeType !== undefined) expect((error as Error).cause).toBeInstanceOf(causeType);
  });

  it('names the offending image id of a bad entry', () => {
    const from = memoryPackage({
      '/var/task/v.xml': view('<image id="zoom" type="image"><width>wide</width></image>'),
    });
    expect(() => loadMagentoTheme(['v.xml'], from)).toThrow('v.xml: view.xml image "zoom": <width>');
  });
});

describe('MAGENTO_VIEW_XML in both image functions', () => {
  const env = { MEDIA_BUCKET: 'shop-media', MAGENTO_HASH_ALGORITHM: 'md5' };

  it.each([loadImageServeConfig, loadImageVariantsConfig])(
    '%o reads the theme the variable names',
    (load) => {
      const config = load({ ...env, MAGENTO_VIEW_XML: ` ${childTheme} ` });
      expect(config.magento?.theme.images.get('product_page_image_medium')?.width).toBe(800);
    },
  );

  it.each(['/var/task/view.xml', '../other/etc/view.xml', 'etc/view.txt', 'a/./../view.xml'])(
    'refuses the path %s',
    (path) => {
      const act = () => loadImageServeConfig({ ...env, MAGENTO_VIEW_XML: path });
      expect(act).toThrow(ConfigError);
      expect(act).toThrow('MAGENTO_VIEW_XML');
    },
  );

  it('reads nothing while Magento hash URLs are off', () => {
    const from = memoryPackage({});
    expect(
      loadImageServeConfig({ MEDIA_BUCKET: 'shop-media', MAGENTO_VIEW_XML: 'gone.xml' }, from).magento,
    ).toBeUndefined();
  });
});

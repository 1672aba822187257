import { describe, expect, it } from 'vitest';
import { ViewXmlError } from '../../../../lib/images/magento/errors.ts';
import { magentoCacheHash } from '../../../../lib/images/magento/imageHash.ts';
import { lumaImages, lumaTheme } from '../../../../lib/images/magento/lumaImages.ts';
import { magentoImageOf, mergeViewXml, parseViewXml } from '../../../../lib/images/magento/viewXml.ts';
import { vectors } from './vectors.ts';

const view = (images: string, vars = '') =>
  `<?xml version="1.0"?><view xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><media><images module="Magento_Catalog">${images}</images></media>${vars}</view>`;
const whiteBorders = (value: string) =>
  `<vars module="Magento_Catalog"><var name="gallery"><var name="nav">thumbs</var></var><var name="product_image_white_borders">${value}</var></vars>`;

/** The odd view.xml entries generate.php fed to Magento's ImageExtractor, by vector id. */
const oddXml: Record<string, string> = {
  'no width/height (product_page_image_large style)': '<image id="odd" type="image"/>',
  'width only': '<image id="odd" type="small_image"><width>240</width></image>',
  'height only': '<image id="odd" type="small_image"><height>300</height></image>',
  'frame false':
    '<image id="odd" type="small_image"><width>240</width><height>300</height><frame>false</frame></image>',
  'frame "1", constrain false':
    '<image id="odd" type="small_image"><width>240</width><height>300</height><frame>1</frame><constrain>false</constrain></image>',
  'aspect_ratio false':
    '<image id="odd" type="thumbnail"><width>100</width><height>100</height><aspect_ratio>false</aspect_ratio></image>',
  'transparency false':
    '<image id="odd" type="small_image"><width>240</width><height>300</height><transparency>false</transparency></image>',
  'background non-white':
    '<image id="odd" type="small_image"><width>240</width><height>300</height><background>[0, 51, 102]</background></image>',
  'xsi:nil frame falls back to the theme var':
    '<image id="odd" type="small_image"><width>240</width><height>300</height><frame xsi:nil="true"/></image>',
  'everything off':
    '<image id="odd" type="image"><width>700</width><height>560</height><frame>false</frame><constrain>false</constrain><aspect_ratio>false</aspect_ratio><transparency>false</transparency><background>[10,20,30]</background></image>',
};

describe('parseViewXml + magentoImageOf against Magento’s ImageExtractor and ParamsBuilder', () => {
  const odd = vectors.hashes.filter((v) => v.group === 'odd' && v.id in oddXml);
  it.each(odd.map((v) => [v.id, v] as const))('hashes "%s" as Magento does', (id, vector) => {
    // Prepare
    const theme = parseViewXml(view(oddXml[id] ?? '', whiteBorders('1')));
    const entry = theme.images.get('odd');

    // Act
    const image = entry && magentoImageOf(entry, theme, { quality: vectors.jpegQualityDefault });

    // Assess
    expect(image && magentoCacheHash(image, 'md5')).toBe(vector.md5);
  });

  it('has Luma’s data equal to what Magento read from Blank + Luma', () => {
    const fromMagento = vectors.hashes
      .filter((v) => v.group === 'luma')
      .map((v) => ({ id: v.id, ...v.viewXmlArguments }))
      .sort((a, b) => a.id.localeCompare(b.id));
    expect([...lumaImages].sort((a, b) => a.id.localeCompare(b.id))).toEqual(fromMagento);
  });

  it('frames by default only when the theme says product_image_white_borders', () => {
    const entry = { id: 'x', type: 'small_image', width: 240, height: 300 } as const;
    expect(magentoImageOf(entry, {}).keepFrame).toBe(false);
    expect(magentoImageOf(entry, parseViewXml(view('', whiteBorders('0')))).keepFrame).toBe(false);
    expect(magentoImageOf(entry, lumaTheme).keepFrame).toBe(true);
  });
});

describe('mergeViewXml', () => {
  it('lays a child theme over its parent field by field, keeping the parent’s other ids', () => {
    // Prepare
    const parent = parseViewXml(
      view(
        '<image id="grid" type="small_image"><width>240</width><height>300</height><frame>true</frame></image><image id="list" type="small_image"><width>100</width><height>100</height></image>',
        whiteBorders('1'),
      ),
    );
    const child = parseViewXml(
      view('<image id="grid" type="small_image"><height>360</height><frame xsi:nil="true"/></image>'),
    );

    // Act
    const merged = mergeViewXml(parent, child);

    // Assess
    expect(merged.images.get('grid')).toEqual({
      id: 'grid',
      type: 'small_image',
      width: 240,
      height: 360,
      frame: null,
    });
    expect(merged.images.get('list')).toEqual({ id: 'list', type: 'small_image', width: 100, height: 100 });
    expect(merged.productImageWhiteBorders).toBe(true);
  });

  it('ignores image sizes of other modules', () => {
    const theme = parseViewXml(
      '<view><media><images module="Magento_Other"><image id="a" type="image"><width>9</width><height>9</height></image></images></media></view>',
    );
    expect(theme.images.size).toBe(0);
  });
});

describe('parseViewXml refusals', () => {
  it.each([
    ['not XML', '<view><media>', undefined],
    ['no view root', '<theme/>', undefined],
    ['an image without id', view('<image type="image"/>'), undefined],
    ['an unknown type', view('<image id="a" type="banner"/>'), 'a'],
    ['a non-numeric width', view('<image id="a" type="image"><width>abc</width></image>'), 'a'],
    ['a zero height', view('<image id="a" type="image"><height>0</height></image>'), 'a'],
    ['a negative width', view('<image id="a" type="image"><width>-5</width></image>'), 'a'],
    [
      'a boolean Magento would read as false',
      view('<image id="a" type="image"><transparency>yes</transparency></image>'),
      'a',
    ],
    [
      'an unparsable background',
      view('<image id="a" type="image"><background>white</background></image>'),
      'a',
    ],
    [
      'a background channel over 255',
      view('<image id="a" type="image"><background>[0, 300, 0]</background></image>'),
      'a',
    ],
    ['an unknown element', view('<image id="a" type="image"><angle>90</angle></image>'), 'a'],
    ['an id declared twice', view('<image id="a" type="image"/><image id="a" type="thumbnail"/>'), 'a'],
  ])('throws on %s, naming the entry', (_name, xml, imageId) => {
    expect.assertions(3);
    try {
      parseViewXml(xml);
    } catch (error) {
      expect(error).toBeInstanceOf(ViewXmlError);
      expect((error as ViewXmlError).imageId).toBe(imageId);
      expect((error as Error).message).toContain(imageId === undefined ? '' : `"${imageId}"`);
    }
  });
});

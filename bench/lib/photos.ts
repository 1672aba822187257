import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';

export interface BenchPhoto {
  readonly name: string;
  readonly path: string;
  readonly megapixels: number;
  readonly bytes: number;
}

const mate = '/usr/share/backgrounds/mate';

/**
 * The benchmark set: every photograph of Debian's mate-backgrounds (nature set + the elephant
 * photo at three sizes, the largest 17.9 MP), plus two 2×2 mosaics of those photographs
 * (16.4 MP each) so that more than one original is over 12 MP. All content is real photography.
 */
export async function benchPhotos(cacheDir: string): Promise<BenchPhoto[]> {
  const nature = [
    'Aqua',
    'Blinds',
    'Dune',
    'FreshFlower',
    'Garden',
    'GreenMeadow',
    'LadyBird',
    'RainDrops',
    'Storm',
    'TwoWings',
    'Wood',
    'YellowFlower',
  ].map((n) => join(mate, 'nature', `${n}.jpg`));
  const elephants = ['Elephants.jpg', 'Elephants_3840x2160.jpg', 'Elephants_5640x3172.jpg'].map((n) =>
    join(mate, 'abstract', n),
  );
  const paths = [...nature, ...elephants];
  for (const p of paths)
    if (!existsSync(p)) throw new Error(`${p} missing: apt-get install mate-backgrounds`);

  mkdirSync(cacheDir, { recursive: true });
  const mosaics: [string, string[]][] = [
    ['mosaic-a.jpg', ['Aqua', 'Garden', 'LadyBird', 'TwoWings']],
    ['mosaic-b.jpg', ['YellowFlower', 'Wood', 'Aqua', 'LadyBird']],
  ];
  for (const [name, parts] of mosaics) {
    const out = join(cacheDir, name);
    if (existsSync(out)) continue;
    const tiles = await Promise.all(
      parts.map((p) =>
        sharp(join(mate, 'nature', `${p}.jpg`))
          .resize(2560, 1600, { fit: 'cover' })
          .toBuffer(),
      ),
    );
    const image = await sharp({ create: { width: 5120, height: 3200, channels: 3, background: '#000' } })
      .composite(tiles.map((input, i) => ({ input, left: (i % 2) * 2560, top: Math.floor(i / 2) * 1600 })))
      .jpeg({ quality: 92 })
      .toBuffer();
    writeFileSync(out, image);
    paths.push(out);
  }
  for (const [name] of mosaics) if (!paths.includes(join(cacheDir, name))) paths.push(join(cacheDir, name));

  return Promise.all(
    paths.map(async (path) => {
      const m = await sharp(path).metadata();
      return {
        name: basename(path),
        path,
        megapixels: ((m.width ?? 0) * (m.height ?? 0)) / 1e6,
        bytes: readFileSync(path).length,
      };
    }),
  );
}

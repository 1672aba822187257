import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/**
 * Real photographs from Debian's `mate-backgrounds` package (installed by .ci/run), not
 * synthetic noise: real JPEG structure, real entropy, real EXIF.
 */
const photoDir = '/usr/share/backgrounds/mate/nature';

export function realPhotos(): string[] {
  if (!existsSync(photoDir)) {
    throw new Error(
      `${photoDir} is missing: install it with 'apt-get install mate-backgrounds' (.ci/run does)`,
    );
  }
  return readdirSync(photoDir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => join(photoDir, f));
}

export const photo = (name: string): Buffer => readFileSync(join(photoDir, name));

/** A real photo scaled down to `width`, so adversarial variants stay quick to build. */
export async function smallPhoto(width = 400): Promise<Buffer> {
  return sharp(photo('Garden.jpg')).resize({ width }).jpeg({ quality: 90 }).toBuffer();
}

/**
 * A PNG whose header claims `width × height` pixels but carries almost no data: the classic
 * decompression bomb. Built by hand so the test never allocates the pixels it claims.
 */
export function decompressionBombPng(width = 100_000, height = 100_000): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no filter, no interlace
  // One row of zeros: a real decoder would have to inflate width*height bytes to reach the end.
  const idat = deflateSync(Buffer.alloc(width + 1));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A landscape test card: red block in the stored top-left corner, blue elsewhere, with an EXIF orientation tag. */
export async function orientedCard(orientation: number, width = 400, height = 300): Promise<Buffer> {
  const red = await sharp({
    create: { width: width / 4, height: height / 4, channels: 3, background: '#ff0000' },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#0000ff' } })
    .composite([{ input: red, left: 0, top: 0 }])
    .withExif({ IFD0: {} })
    .withMetadata({ orientation })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** An animated GIF of `frames` frames. */
export async function animatedGif(frames: number, size = 64): Promise<Buffer> {
  const colours = ['#ff0000', '#00ff00', '#0000ff', '#ffff00'];
  const images = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({
        create: { width: size, height: size, channels: 3, background: colours[i % colours.length] ?? '#000' },
      })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(images, { join: { animated: true } })
    .gif()
    .toBuffer();
}

/** An SVG that tries to read a local file through an external entity (XXE). */
export const hostileSvg = Buffer.from(
  `<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><text x="0" y="20">&secret;</text></svg>`,
);

/** A fully transparent-bordered PNG: opaque green square in the middle of a transparent canvas. */
export async function transparentPng(size = 300): Promise<Buffer> {
  const green = await sharp({
    create: { width: size / 3, height: size / 3, channels: 4, background: '#00ff00ff' },
  })
    .png()
    .toBuffer();
  return sharp({
    create: { width: size, height: size, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([{ input: green, left: size / 3, top: size / 3 }])
    .png()
    .toBuffer();
}

/** RGB value of one pixel of an encoded image. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i] ?? -1, data[i + 1] ?? -1, data[i + 2] ?? -1];
}

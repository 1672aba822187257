import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RolloutError } from '../../../lib/rollout/errors.ts';
import { imageFromArtifact } from '../../../lib/rollout/imageArtifact.ts';

type Method = 'deflated' | 'stored' | 'zip64-local';
type Spec = readonly [files: Record<string, string>, method?: Method];

/**
 * ZIPs made by Python's zipfile (as independent of our reader as it gets), in one python3 run: for
 * each key, name → text, deflated (the default), stored, or deflated with ZIP64 local headers
 * (`force_zip64=True`). The specs go through stdin: one argument may not exceed 128 KiB.
 */
function zipsOf<Key extends string>(specs: Record<Key, Spec>): Record<Key, Buffer> {
  const script = `
import base64, io, json, sys, zipfile
out = {}
for key, (files, method) in json.load(sys.stdin).items():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED if method == 'stored' else zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            if method == 'zip64-local':
                with z.open(name, 'w', force_zip64=True) as f:
                    f.write(text.encode())
            else:
                z.writestr(name, text)
    out[key] = base64.b64encode(buf.getvalue()).decode()
json.dump(out, sys.stdout)
`;
  const input = JSON.stringify(
    Object.fromEntries(
      Object.entries<Spec>(specs).map(([key, [files, method]]) => [key, [files, method ?? 'deflated']]),
    ),
  );
  const made: Record<string, string> = JSON.parse(
    execFileSync('python3', ['-c', script], { input, encoding: 'utf8', maxBuffer: 64 << 20 }),
  );
  return Object.fromEntries(
    Object.entries(made).map(([key, b64]) => [key, Buffer.from(b64, 'base64')]),
  ) as Record<Key, Buffer>;
}

/** The archive with the 32-bit field at `offset` of its first central-directory header set to `value`. */
function withCentralField(zip: Buffer, offset: number, value: number): Buffer {
  const patched = Buffer.from(zip);
  const header = patched.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  patched.writeUInt32LE(value, header + offset);
  return patched;
}

const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/magento@sha256:${'c'.repeat(64)}`;
const detail = JSON.stringify({ ImageURI: image });
const readme = 'x'.repeat(5000);
const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'rollout');

const zips = zipsOf({
  'deflated at root': [{ 'README.txt': readme, 'imageDetail.json': detail }],
  'deflated in a folder': [{ 'README.txt': readme, 'out/imageDetail.json': detail }],
  'stored at root': [{ 'README.txt': readme, 'imageDetail.json': detail }, 'stored'],
  'stored in a folder': [{ 'README.txt': readme, 'out/imageDetail.json': detail }, 'stored'],
  'zip64-local at root': [{ 'README.txt': readme, 'imageDetail.json': detail }, 'zip64-local'],
  'zip64-local in a folder': [{ 'README.txt': readme, 'out/imageDetail.json': detail }, 'zip64-local'],
  definitions: [
    {
      'imagedefinitions.json': JSON.stringify([
        { name: 'php-fpm', imageUri: image },
        { name: 'nginx', imageUri: 'other' },
      ]),
    },
  ],
  'definitions first': [
    {
      'imagedefinitions.json': JSON.stringify([{ name: 'php-fpm', imageUri: 'from-definitions' }]),
      'imageDetail.json': detail,
    },
  ],
  'wrong case': [{ 'imageDetail.json': '{"imageUri":"wrong-case"}' }],
  'not json': [{ 'imageDetail.json': 'not json' }],
  'no definitions': [{ 'imagedefinitions.json': '[]' }],
  'other files': [{ 'other.txt': 'x', 'imageDetail.json.bak': detail }],
  empty: [{}],
  // Valid JSON padded with spaces to the limit and one byte above it.
  '1 MiB': [{ 'imageDetail.json': detail.padEnd(1 << 20, ' ') }],
  '1 MiB + 1': [{ 'imageDetail.json': detail.padEnd((1 << 20) + 1, ' ') }],
  '2 MiB': [{ 'imageDetail.json': detail.padEnd(2 << 20, ' ') }],
  small: [{ 'imageDetail.json': detail }],
  'small, padded': [{ 'imageDetail.json': detail.padEnd(4000, ' ') }],
});

describe('imageFromArtifact', () => {
  it.each([
    'deflated at root',
    'deflated in a folder',
    'stored at root',
    'stored in a folder',
    'zip64-local at root',
    'zip64-local in a folder',
  ] as const)('takes ImageURI from imageDetail.json, %s', async (key) => {
    // Act / Assess
    await expect(imageFromArtifact(zips[key])).resolves.toBe(image);
  });

  it('reads a ZIP64 archive written by Info-ZIP (64-bit sizes, ZIP64 end of central directory)', async () => {
    // Prepare: see test/fixtures/rollout/README.md for how it was made.
    const archive = readFileSync(join(fixtures, 'codebuild-zip64.zip'));

    // Act / Assess
    await expect(imageFromArtifact(archive)).resolves.toBe(image);
  });

  it('falls back to the first imageUri of imagedefinitions.json', async () => {
    // Act / Assess
    await expect(imageFromArtifact(zips.definitions)).resolves.toBe(image);
  });

  it('prefers imageDetail.json even when imagedefinitions.json comes first', async () => {
    // Act / Assess
    await expect(imageFromArtifact(zips['definitions first'])).resolves.toBe(image);
  });

  it.each([
    ['wrong case', /imageDetail.json has no "ImageURI"/],
    ['not json', /imageDetail.json has no "ImageURI"/],
    ['no definitions', /imagedefinitions.json has no "imageUri"/],
    ['other files', /neither imageDetail.json nor imagedefinitions.json/],
    ['empty', /neither imageDetail.json nor imagedefinitions.json/],
  ] as const)('rejects an archive with %s', async (key, message) => {
    // Act
    const read = imageFromArtifact(zips[key]);

    // Assess
    await expect(read).rejects.toThrow(RolloutError);
    await expect(read).rejects.toThrow(message);
  });

  it('refuses an imageDetail.json above 1 MiB before inflating it', async () => {
    // Act
    const read = imageFromArtifact(zips['1 MiB + 1']);

    // Assess
    await expect(read).rejects.toThrow(RolloutError);
    await expect(read).rejects.toThrow(/imageDetail.json is larger than 1048576 bytes \(1048577\)/);
  });

  it('accepts an imageDetail.json of exactly 1 MiB', async () => {
    // Act / Assess
    await expect(imageFromArtifact(zips['1 MiB'])).resolves.toBe(image);
  });

  it('stops inflating an entry whose real size exceeds the size its header declares', async () => {
    // Prepare: 2 MiB that the central directory claims is 1000 bytes (uncompressed size at +24).
    const bomb = withCentralField(zips['2 MiB'], 24, 1000);

    // Act
    const read = imageFromArtifact(bomb);

    // Assess
    await expect(read).rejects.toThrow(RolloutError);
    await expect(read).rejects.toThrow(/damaged ZIP archive: too many bytes in the stream/);
  });

  it.each([
    [
      'JSON instead of a ZIP',
      () => Buffer.from(detail),
      /not a ZIP archive: End of central directory record signature not found/,
    ],
    ['an empty object', () => Buffer.alloc(0), /not a ZIP archive/],
    ['a ZIP cut in half', () => zips.small.subarray(0, 60), /not a ZIP archive/],
    [
      'a ZIP whose central directory points past its end',
      // Relative offset of the local header at +42.
      () => withCentralField(zips.small, 42, 0x7fff_0000),
      /damaged ZIP archive/,
    ],
    [
      'a ZIP whose deflated data is garbage',
      () => {
        const zip = Buffer.from(zips['small, padded']);
        // The data starts after the 30-byte local header and the name.
        zip.fill(0xff, 30 + 'imageDetail.json'.length, 60 + 'imageDetail.json'.length);
        return zip;
      },
      /damaged ZIP archive/,
    ],
  ])('refuses %s with a clear error', async (_, archive, message) => {
    // Act
    const read = imageFromArtifact(archive());

    // Assess
    await expect(read).rejects.toThrow(RolloutError);
    await expect(read).rejects.toThrow(message);
  });
});

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RolloutError } from '../../../lib/rollout/errors.ts';
import { imageFromArtifact } from '../../../lib/rollout/imageArtifact.ts';
import { ZipFormatError, zipEntry } from '../../../lib/rollout/zipEntry.ts';

/** A ZIP made by Python's zipfile (as independent of our reader as it gets): name → text, deflated or stored. */
function zipOf(files: Record<string, string>, method: 'deflated' | 'stored' = 'deflated'): Buffer {
  const script = `
import io, json, sys, zipfile
files = json.loads(sys.argv[1])
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED if sys.argv[2] == 'deflated' else zipfile.ZIP_STORED) as z:
    for name, text in files.items():
        z.writestr(name, text)
sys.stdout.buffer.write(buf.getvalue())
`;
  return execFileSync('python3', ['-c', script, JSON.stringify(files), method]);
}

const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/magento@sha256:${'c'.repeat(64)}`;

describe('zipEntry', () => {
  it.each(['deflated', 'stored'] as const)('reads a %s entry, at the root or in a folder', (method) => {
    const zip = zipOf({ 'README.txt': 'x'.repeat(5000), 'out/imageDetail.json': '{"ImageURI":"a"}' }, method);
    expect(zipEntry(zip, 'imageDetail.json')?.toString('utf8')).toBe('{"ImageURI":"a"}');
    expect(zipEntry(zip, 'README.txt')?.toString('utf8')).toBe('x'.repeat(5000));
    expect(zipEntry(zip, 'missing.json')).toBeUndefined();
  });

  it('refuses what is not a ZIP', () => {
    expect(() => zipEntry(Buffer.from('{"ImageURI":"a"}'), 'imageDetail.json')).toThrow(ZipFormatError);
  });

  it('refuses an entry above the size limit', () => {
    expect(() => zipEntry(zipOf({ 'imageDetail.json': 'y'.repeat(2000) }), 'imageDetail.json', 1000)).toThrow(
      /larger than 1000 bytes/,
    );
  });
});

describe('imageFromArtifact', () => {
  it('takes ImageURI from imageDetail.json', () => {
    expect(imageFromArtifact(zipOf({ 'imageDetail.json': JSON.stringify({ ImageURI: image }) }))).toBe(image);
  });

  it('falls back to the first imageUri of imagedefinitions.json', () => {
    const definitions = JSON.stringify([{ name: 'php-fpm', imageUri: image }]);
    expect(imageFromArtifact(zipOf({ 'imagedefinitions.json': definitions }))).toBe(image);
  });

  it.each([
    [{ 'imageDetail.json': '{"imageUri":"wrong-case"}' }, /imageDetail.json has no "ImageURI"/],
    [{ 'imageDetail.json': 'not json' }, /imageDetail.json has no "ImageURI"/],
    [{ 'other.txt': 'x' }, /neither imageDetail.json nor imagedefinitions.json/],
  ])('rejects %j', (files, message) => {
    expect(() => imageFromArtifact(zipOf(files))).toThrow(RolloutError);
    expect(() => imageFromArtifact(zipOf(files))).toThrow(message);
  });
});

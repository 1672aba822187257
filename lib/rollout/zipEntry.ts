import { inflateRawSync } from 'node:zlib';

const endOfCentralDirectory = 0x06054b50;
const centralFileHeader = 0x02014b50;
const localFileHeader = 0x04034b50;

/** A ZIP archive CodeBuild wrote is not what it should be. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

/**
 * Reads one file out of a ZIP archive (CodePipeline artifacts are ZIPs), stored or deflated,
 * by its name at the archive's root or in any folder. Returns undefined when it is absent.
 * Only what CodeBuild writes is supported: no ZIP64, no encryption.
 *
 * @example zipEntry(await body.transformToByteArray(), 'imageDetail.json')
 */
export function zipEntry(archive: Uint8Array, fileName: string, maxBytes = 1 << 20): Buffer | undefined {
  const zip = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  // The end record is in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === endOfCentralDirectory) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('not a ZIP archive (no end of central directory)');
  const entries = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== centralFileHeader) {
      throw new ZipFormatError('damaged central directory');
    }
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (name !== fileName && !name.endsWith(`/${fileName}`)) continue;
    if (size > maxBytes) throw new ZipFormatError(`${name} is larger than ${maxBytes} bytes`);
    if (zip.readUInt32LE(localOffset) !== localFileHeader) throw new ZipFormatError(`damaged entry ${name}`);
    const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (method === 0) return Buffer.from(data);
    if (method === 8) return inflateRawSync(data, { maxOutputLength: maxBytes });
    throw new ZipFormatError(`${name} uses unsupported compression method ${method}`);
  }
  return undefined;
}

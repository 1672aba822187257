import { buffer } from 'node:stream/consumers';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type Entry, fromBufferPromise, type ZipFile } from 'yauzl';
import { z } from 'zod';
import { messageOf } from '../common/messageOf.ts';
import { RolloutError } from './errors.ts';
import type { InputArtifact } from './pipelineJob.ts';

/** Reads the release image from a job's input artifact. */
export type ArtifactImageReader = (artifact: InputArtifact) => Promise<string>;

const imageDetail = z.object({ ImageURI: z.string().min(1).max(512) });
const imageDefinitions = z.array(z.object({ imageUri: z.string().min(1).max(512) })).min(1);

/** Both files are a few hundred bytes; anything above this is not what CodeBuild wrote. */
const maxEntryBytes = 1 << 20;

/**
 * The image named by an artifact's `imageDetail.json` (`{"ImageURI": …}`, as CodeBuild writes it for
 * ECR) or, failing that, the first entry of `imagedefinitions.json` (`[{"name", "imageUri"}]`), at the
 * archive's root or in any folder. The archive is a ZIP (ZIP64 included), its entries stored or deflated.
 *
 * @example await imageFromArtifact(await object.Body.transformToByteArray())
 */
export async function imageFromArtifact(archive: Uint8Array): Promise<string> {
  let zip: ZipFile;
  try {
    zip = await fromBufferPromise(Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength), {
      // yauzl's own guard against entries that inflate beyond their declared size (zip bombs).
      validateEntrySizes: true,
    });
  } catch (error) {
    throw new RolloutError(`the input artifact is not a ZIP archive: ${messageOf(error)}`, { cause: error });
  }
  try {
    return await imageFromZip(zip);
  } catch (error) {
    if (error instanceof RolloutError) throw error;
    throw new RolloutError(`the input artifact is a damaged ZIP archive: ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    zip.close();
  }
}

async function imageFromZip(zip: ZipFile): Promise<string> {
  let definitions: Entry | undefined;
  for await (const entry of zip.eachEntry()) {
    if (isNamed(entry, 'imageDetail.json')) {
      const parsed = imageDetail.safeParse(parseJson(await entryText(zip, entry)));
      if (parsed.success) return parsed.data.ImageURI;
      throw new RolloutError('imageDetail.json has no "ImageURI"', { cause: parsed.error });
    }
    if (definitions === undefined && isNamed(entry, 'imagedefinitions.json')) definitions = entry;
  }
  if (definitions !== undefined) {
    const parsed = imageDefinitions.safeParse(parseJson(await entryText(zip, definitions)));
    if (parsed.success) return parsed.data[0]?.imageUri ?? '';
    throw new RolloutError('imagedefinitions.json has no "imageUri"', { cause: parsed.error });
  }
  throw new RolloutError('the input artifact holds neither imageDetail.json nor imagedefinitions.json');
}

const isNamed = (entry: Entry, fileName: string): boolean =>
  entry.fileName === fileName || entry.fileName.endsWith(`/${fileName}`);

/** An entry's content as UTF-8, refused above {@link maxEntryBytes} before and while inflating. */
async function entryText(zip: ZipFile, entry: Entry): Promise<string> {
  if (entry.uncompressedSize > maxEntryBytes)
    throw new RolloutError(
      `${entry.fileName} is larger than ${maxEntryBytes} bytes (${entry.uncompressedSize})`,
    );
  if (!entry.canDecodeFileData())
    throw new RolloutError(
      `${entry.fileName} is encrypted or uses unsupported compression method ${entry.compressionMethod}`,
    );
  // Bounded: yauzl fails the stream as soon as the inflated data exceeds the declared size checked above.
  const data = await buffer(await zip.openReadStreamPromise(entry));
  return data.toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Reported by the schema check as a missing field.
    return undefined;
  }
}

/**
 * An {@link ArtifactImageReader} over S3 with the job's own artifact credentials (CodePipeline scopes
 * them to its artifact store; the function's role needs no S3 grant).
 */
export function s3ArtifactImageReader(region?: string): ArtifactImageReader {
  return async (artifact) => {
    const s3 = new S3Client({
      ...(region === undefined ? {} : { region }),
      credentials: artifact.credentials,
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
      maxAttempts: 3,
    });
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: artifact.bucket, Key: artifact.key }));
      if (object.Body === undefined) throw new RolloutError(`artifact ${artifact.name} is empty`);
      return await imageFromArtifact(await object.Body.transformToByteArray());
    } finally {
      s3.destroy();
    }
  };
}

import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { RolloutError } from './errors.ts';
import type { InputArtifact } from './pipelineJob.ts';
import { zipEntry } from './zipEntry.ts';

/** Reads the release image from a job's input artifact. */
export type ArtifactImageReader = (artifact: InputArtifact) => Promise<string>;

const imageDetail = z.object({ ImageURI: z.string().min(1).max(512) });
const imageDefinitions = z.array(z.object({ imageUri: z.string().min(1).max(512) })).min(1);

/**
 * The image named by an artifact's `imageDetail.json` (`{"ImageURI": …}`, as CodeBuild writes it for
 * ECR) or, failing that, the first entry of `imagedefinitions.json` (`[{"name", "imageUri"}]`).
 */
export function imageFromArtifact(archive: Uint8Array): string {
  const detail = zipEntry(archive, 'imageDetail.json');
  if (detail !== undefined) {
    const parsed = imageDetail.safeParse(parseJson(detail.toString('utf8')));
    if (parsed.success) return parsed.data.ImageURI;
    throw new RolloutError('imageDetail.json has no "ImageURI"', { cause: parsed.error });
  }
  const definitions = zipEntry(archive, 'imagedefinitions.json');
  if (definitions !== undefined) {
    const parsed = imageDefinitions.safeParse(parseJson(definitions.toString('utf8')));
    if (parsed.success) return parsed.data[0]?.imageUri ?? '';
    throw new RolloutError('imagedefinitions.json has no "imageUri"', { cause: parsed.error });
  }
  throw new RolloutError('the input artifact holds neither imageDetail.json nor imagedefinitions.json');
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
      return imageFromArtifact(await object.Body.transformToByteArray());
    } finally {
      s3.destroy();
    }
  };
}

import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { logFile, runningPid, startDaemon, stopDaemon, waitFor } from './proc.ts';

const motoLauncher = join(import.meta.dirname, 'moto-server.py');

/** What the embedded AWS endpoint looks like to clients; exported into `.local/env`. */
export const awsEnv = {
  AWS_ENDPOINT_URL: `http://127.0.0.1:${process.env.M2_MOTO_PORT ?? '4566'}`,
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  MEDIA_BUCKET: process.env.MEDIA_BUCKET ?? 'm2-media-local',
} as const;

async function motoResponds(): Promise<boolean> {
  const res = await fetch(`${awsEnv.AWS_ENDPOINT_URL}/moto-api/`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/** Starts moto_server on 127.0.0.1 unless our own instance already runs, then creates the media bucket. */
export async function upAws(): Promise<void> {
  if (runningPid('moto') === undefined) {
    const port = new URL(awsEnv.AWS_ENDPOINT_URL).port;
    // moto-server.py = moto_server + a fix for SendMessage's O(queue depth) cost (see the file).
    startDaemon('moto', 'python3', [motoLauncher, '-H', '127.0.0.1', '-p', port]);
  }
  try {
    await waitFor('moto_server', motoResponds, 30_000);
  } catch (error) {
    throw new Error(`moto_server did not come up; see ${logFile('moto')}`, { cause: error });
  }
  const s3 = new S3Client({
    endpoint: awsEnv.AWS_ENDPOINT_URL,
    region: awsEnv.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: awsEnv.AWS_ACCESS_KEY_ID, secretAccessKey: awsEnv.AWS_SECRET_ACCESS_KEY },
  });
  try {
    await s3.send(new HeadBucketCommand({ Bucket: awsEnv.MEDIA_BUCKET }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: awsEnv.MEDIA_BUCKET }));
  }
  s3.destroy();
}

export async function downAws(): Promise<boolean> {
  return stopDaemon('moto');
}

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv } from '../../helpers/embedded.ts';

const run = promisify(execFile);

/**
 * `sls deploy` and `sls remove` of the real serverless.yml against the embedded AWS (moto's
 * CloudFormation), on a stage of its own: its own stack, roles, functions, shop queues and media
 * bucket, so it can neither collide with `m2-media-local` and the example shop's queues other tests
 * use, nor with a second run on the same moto.
 *
 * moto creates functions, roles, log groups, queues, buckets, rules, the topic and the dashboard, and
 * skips (with a warning, stack still CREATE_COMPLETE) AWS::CloudWatch::Alarm, AWS::Lambda::Url,
 * AWS::Lambda::EventInvokeConfig, AWS::S3::BucketPolicy and AWS::SNS::Subscription (not deployed here:
 * no alertEmail), and ignores the bucket's VersioningConfiguration and LifecycleConfiguration; the
 * slsPackage test checks those in the template. Nothing is invoked: moto runs no Lambda code.
 *
 * `sls remove` leaves the retained resources (DeletionPolicy: Retain: the media bucket, the shop's
 * queues and dead-letter queues), as in AWS; the test then deletes them as the README says to.
 */
// ≤ 32 characters: role names are m2-eks-pipeline-<stage>-consumer-scaler (IAM allows 64).
const stage = `deploytest-${Date.now().toString(36)}`;
const service = 'm2-eks-pipeline';
const shopName = `${stage}-shop`;
const mediaBucketName = `m2-${stage}-media`;
const functionNames = ['imageVariants', 'imageServe', 'consumerScaler', 'rollout'].map(
  (key) => `${service}-${stage}-${key}`,
);
const roleNames = ['image-variants', 'image-serve', 'consumer-scaler', 'rollout'].map(
  (role) => `${service}-${stage}-${role}`,
);
const shopQueueNames = [
  'async-operations-all',
  'export-processor',
  'media-storage-catalog-image-resize',
  'product-action-attribute-update',
].map((queue) => `${shopName}-${queue}`);
const failureQueueName = `${service}-${stage}-image-variants-failures`;
const retainedQueueNames = [...shopQueueNames, ...shopQueueNames.map((q) => `${q}-dlq`)];
const topicSuffix = `:${service}-${stage}-alerts`;

let env: NodeJS.ProcessEnv;
/**
 * The OS temp dir sls runs with, removed afterwards: serverless-esbuild 1.57 leaves its zip staging
 * directory (≈ 25 MB per function) in it on every package (floydspace/serverless-esbuild#589).
 */
const slsTmp = mkdtempSync(join(tmpdir(), 'm2-sls-deploy-'));
let scalerArn: string;
let removed = false;

/** `npx sls <command>` for this stage with the environment's endpoint and credentials; logs the time taken. */
async function sls(command: 'deploy' | 'remove'): Promise<void> {
  const started = performance.now();
  await run(
    'npx',
    [
      'sls',
      command,
      '--stage',
      stage,
      `--param=mediaBucketName=${mediaBucketName}`,
      `--param=shopName=${shopName}`,
    ],
    { env, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`sls ${command} --stage ${stage}: ${seconds.toFixed(1)} s`);
}

/** aws-cli (as the README uses it) for the services the project has no SDK client of; JSON out. */
async function aws<T>(args: readonly string[]): Promise<T> {
  const { stdout } = await run(
    'aws',
    [...args, '--region', env.AWS_REGION ?? 'us-east-1', '--output', 'json'],
    {
      env,
    },
  );
  return JSON.parse(stdout || 'null') as T;
}

/** Whether an aws-cli call fails with the given error code (e.g. the resource no longer exists). */
async function awsFailsWith(args: readonly string[], code: string): Promise<boolean> {
  return aws(args).then(
    () => false,
    (error: { stderr?: string }) => {
      if (error.stderr?.includes(code)) return true;
      throw error;
    },
  );
}

const sqs = (): SQSClient => new SQSClient({ endpoint: env.AWS_ENDPOINT_URL, region: env.AWS_REGION });
const s3 = (): S3Client =>
  new S3Client({ endpoint: env.AWS_ENDPOINT_URL, region: env.AWS_REGION, forcePathStyle: true });

async function queueAttributes(name: string): Promise<Record<string, string>> {
  const client = sqs();
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
  );
  return Attributes ?? {};
}

async function queueExists(name: string): Promise<boolean> {
  return sqs()
    .send(new GetQueueUrlCommand({ QueueName: name }))
    .then(
      () => true,
      (error: { name?: string }) => {
        if (error.name === 'QueueDoesNotExist' || error.name === 'AWS.SimpleQueueService.NonExistentQueue')
          return false;
        throw error;
      },
    );
}

async function bucketExists(name: string): Promise<boolean> {
  return s3()
    .send(new HeadBucketCommand({ Bucket: name }))
    .then(
      () => true,
      (error: { $metadata?: { httpStatusCode?: number } }) => {
        if (error.$metadata?.httpStatusCode === 404) return false;
        throw error;
      },
    );
}

/** Deletes what `sls remove` retains: every version and delete marker, the bucket, the shop's queues. */
async function deleteRetained(): Promise<void> {
  const client = s3();
  if (await bucketExists(mediaBucketName)) {
    let page: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      const out = await client.send(new ListObjectVersionsCommand({ Bucket: mediaBucketName, ...page }));
      const objects = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key,
        VersionId: v.VersionId,
      }));
      if (objects.length > 0)
        await client.send(
          new DeleteObjectsCommand({ Bucket: mediaBucketName, Delete: { Objects: objects } }),
        );
      if (!out.IsTruncated) break;
      page = { KeyMarker: out.NextKeyMarker, VersionIdMarker: out.NextVersionIdMarker };
    }
    await client.send(new DeleteBucketCommand({ Bucket: mediaBucketName }));
  }
  for (const name of retainedQueueNames) {
    if (!(await queueExists(name))) continue;
    const { QueueUrl } = await sqs().send(new GetQueueUrlCommand({ QueueName: name }));
    await sqs().send(new DeleteQueueCommand({ QueueUrl }));
  }
}

interface Stack {
  Tags?: { Key: string; Value: string }[];
  Outputs?: { OutputKey: string; OutputValue: string }[];
}

async function describeStack(): Promise<Stack> {
  const { Stacks } = await aws<{ Stacks: Stack[] }>([
    'cloudformation',
    'describe-stacks',
    '--stack-name',
    `${service}-${stage}`,
  ]);
  return Stacks[0] ?? {};
}

async function topicArns(): Promise<string[]> {
  const { Topics } = await aws<{ Topics: { TopicArn: string }[] }>(['sns', 'list-topics']);
  return Topics.map((t) => t.TopicArn).filter((arn) => arn.endsWith(topicSuffix));
}

async function scalerRuleNames(): Promise<string[]> {
  const { RuleNames } = await aws<{ RuleNames: string[] }>([
    'events',
    'list-rule-names-by-target',
    '--target-arn',
    scalerArn,
  ]);
  return RuleNames;
}

beforeAll(async () => {
  const { MEDIA_BUCKET: _shared, ...rest } = { ...process.env, ...embeddedEnv() };
  env = { ...rest, AWS_REGION: rest.AWS_REGION ?? 'us-east-1', TMPDIR: slsTmp };
  await sls('deploy');
  const scaler = await aws<{ Configuration: { FunctionArn: string } }>([
    'lambda',
    'get-function',
    '--function-name',
    `${service}-${stage}-consumerScaler`,
  ]);
  scalerArn = scaler.Configuration.FunctionArn;
}, 600_000);

afterAll(async () => {
  // Only when the removal test did not run (filtered out, or an earlier failure): leave moto as found.
  if (!removed) await sls('remove');
  await deleteRetained();
  rmSync(slsTmp, { recursive: true, force: true });
}, 600_000);

describe('sls deploy against the embedded AWS', () => {
  it('creates the four functions, each with its own role', async () => {
    for (const [i, name] of functionNames.entries()) {
      const fn = await aws<{ Configuration: { Role: string; Runtime: string } }>([
        'lambda',
        'get-function',
        '--function-name',
        name,
      ]);
      expect(fn.Configuration.Role, name).toBe(`arn:aws:iam::123456789012:role/${roleNames[i]}`);
      expect(fn.Configuration.Runtime, name).toBe('nodejs24.x');
      const role = await aws<{ Role: { RoleName: string } }>([
        'iam',
        'get-role',
        '--role-name',
        roleNames[i] ?? '',
      ]);
      expect(role.Role.RoleName).toBe(roleNames[i]);
    }
  });

  it('creates the media bucket named by the stage param, and points the image functions at it', async () => {
    expect(await bucketExists(mediaBucketName)).toBe(true);
    const config = await aws<{ Environment: { Variables: Record<string, string> } }>([
      'lambda',
      'get-function-configuration',
      '--function-name',
      `${service}-${stage}-imageVariants`,
    ]);
    expect(config.Environment.Variables.MEDIA_BUCKET).toBe(mediaBucketName);
  });

  it("creates the shop's queues, each redriving to its dead-letter queue after 5 receives", async () => {
    for (const name of shopQueueNames) {
      const queue = await queueAttributes(name);
      const dlq = await queueAttributes(`${name}-dlq`);
      expect(JSON.parse(queue.RedrivePolicy ?? '{}'), name).toEqual({
        deadLetterTargetArn: dlq.QueueArn,
        maxReceiveCount: 5,
      });
      expect(dlq.MessageRetentionPeriod, name).toBe('1209600');
    }
    expect(Number((await queueAttributes(`${shopName}-export-processor`)).VisibilityTimeout)).toBe(1530);
    expect(await queueExists(failureQueueName)).toBe(true);
  });

  it('tags the stack with the shop and the stage', async () => {
    const { Tags } = await describeStack();
    expect(Tags).toEqual(
      expect.arrayContaining([
        { Key: 'shop', Value: shopName },
        { Key: 'stage', Value: stage },
      ]),
    );
  });

  it("keeps the first template's outputs in moto, whose change sets do not recompute them (the packaging test checks them)", async () => {
    // osls creates the stack with its core template, then updates it with a change set; moto's change
    // set applies the resources but leaves the outputs as created. Pins that gap: the day moto
    // recomputes them, assert the queue URLs and role ARNs here.
    const outputs = (await describeStack()).Outputs?.map((o) => o.OutputKey) ?? [];
    expect(outputs).not.toContain('RolloutRoleArn');
  });

  it('gets an unversioned bucket from moto, which ignores VersioningConfiguration (the packaging test checks it)', async () => {
    // Pins moto's gap: the day moto applies it, assert Status Enabled here instead.
    const versioning = await s3().send(new GetBucketVersioningCommand({ Bucket: mediaBucketName }));
    expect(versioning.Status).toBeUndefined();
  });

  it('creates the alert topic', async () => {
    expect(await topicArns()).toHaveLength(1);
  });

  it('wakes consumerScaler by its schedule alone', async () => {
    const rules = await Promise.all(
      (await scalerRuleNames()).map((name) =>
        aws<{ ScheduleExpression?: string; EventPattern?: string }>([
          'events',
          'describe-rule',
          '--name',
          name,
        ]),
      ),
    );
    expect(rules.map((r) => r.ScheduleExpression).filter(Boolean)).toEqual(['rate(1 minute)']);
    // The schedule alone: the backlog alarm's rule is gone (its SQS metrics woke nothing sooner than ≈ 3 min).
    expect(rules.filter((r) => r.EventPattern !== undefined)).toEqual([]);
  });

  it('creates the operations dashboard', async () => {
    const dashboard = await aws<{ DashboardBody: string }>([
      'cloudwatch',
      'get-dashboard',
      '--dashboard-name',
      `${service}-${stage}`,
    ]);
    const body = JSON.parse(dashboard.DashboardBody) as { widgets: { properties: { region: string } }[] };
    // CloudFormation's substitution ran: the region is real, not the placeholder.
    expect(body.widgets[0]?.properties.region).toBe(env.AWS_REGION);
  });

  it('gets no alarms from moto, which skips AWS::CloudWatch::Alarm (the packaging test checks them)', async () => {
    // Pins moto's gap rather than hiding it: the day moto creates alarms this fails, and the alarms
    // belong in the assertions above.
    const { MetricAlarms } = await aws<{ MetricAlarms: unknown[] }>([
      'cloudwatch',
      'describe-alarms',
      '--alarm-name-prefix',
      `${service}-${stage}-`,
    ]);
    expect(MetricAlarms).toEqual([]);
  });

  it('removes everything it deployed but the media bucket and the shop queues, which it retains', async () => {
    await sls('remove');
    removed = true;
    for (const name of functionNames) {
      expect(
        await awsFailsWith(['lambda', 'get-function', '--function-name', name], 'ResourceNotFound'),
        name,
      ).toBe(true);
    }
    for (const name of roleNames) {
      expect(await awsFailsWith(['iam', 'get-role', '--role-name', name], 'NoSuchEntity'), name).toBe(true);
    }
    expect(await queueExists(failureQueueName)).toBe(false);
    for (const name of retainedQueueNames) expect(await queueExists(name), name).toBe(true);
    expect(await bucketExists(mediaBucketName)).toBe(true);
    expect(await topicArns()).toEqual([]);
    expect(await scalerRuleNames()).toEqual([]);
    expect(
      await awsFailsWith(
        ['cloudwatch', 'get-dashboard', '--dashboard-name', `${service}-${stage}`],
        'ResourceNotFound',
      ),
    ).toBe(true);

    await deleteRetained();
    for (const name of retainedQueueNames) expect(await queueExists(name), name).toBe(false);
    expect(await bucketExists(mediaBucketName)).toBe(false);
  }, 600_000);
});

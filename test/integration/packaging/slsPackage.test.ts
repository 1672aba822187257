import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

let dir: string;
let template: Template;

/** `sls package` offline (dummy credentials, no endpoint), exactly as a user runs it on a fresh clone. */
async function packageService(extraArgs: readonly string[] = []): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'm2-sls-'));
  const { AWS_ENDPOINT_URL: _endpoint, MEDIA_BUCKET: _bucket, ...env } = process.env;
  await run('npx', ['sls', 'package', '--stage', 'citest', '--package', out, ...extraArgs], {
    env: { ...env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline' },
    timeout: 240_000,
  });
  return join(out, 'cloudformation-template-update-stack.json');
}

/** cfn-lint's exit code, a bit mask: 2 = error, 4 = warning, 8 = informational; errors are printed. */
async function cfnLintCode(file: string): Promise<number> {
  return run('cfn-lint', [file]).then(
    () => 0,
    (error: { code?: number; stdout?: string }) => {
      if ((error.code ?? 0) & 2) console.error(error.stdout);
      return error.code ?? 1;
    },
  );
}

beforeAll(async () => {
  const file = await packageService();
  dir = dirname(file);
  template = JSON.parse(readFileSync(file, 'utf8')) as Template;
}, 300_000);

const statementsOf = (roleId: string): Statement[] => {
  const role = template.Resources[roleId];
  const policies = (role?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
};

/** Each action a role grants → the JSON of the resources it is granted on. */
const resourcesByAction = (roleId: string): Map<string, string[]> => {
  const byAction = new Map<string, string[]>();
  for (const s of statementsOf(roleId)) {
    for (const action of [s.Action].flat())
      byAction.set(action, [...(byAction.get(action) ?? []), JSON.stringify(s.Resource)]);
  }
  return byAction;
};

describe('sls package', () => {
  it('produces a template with zero cfn-lint errors', async () => {
    const code = await cfnLintCode(join(dir, 'cloudformation-template-update-stack.json'));
    expect(code & 2).toBe(0);
  });

  it('grants no wildcard action to any role', () => {
    const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(0);
    for (const [id] of roles) {
      for (const s of statementsOf(id)) {
        for (const action of [s.Action].flat()) expect(action, `${id}: ${action}`).not.toContain('*');
      }
    }
  });

  it('lets imageVariants read originals and write only the derived prefix of the media bucket', () => {
    const byAction = resourcesByAction('ImageVariantsRole');
    expect([...byAction.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:DeleteObject',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'sqs:SendMessage',
      ].sort(),
    );
    for (const action of ['s3:PutObject', 's3:DeleteObject']) {
      expect(byAction.get(action)).toEqual([
        expect.stringContaining(':s3:::m2-eks-pipeline-citest-us-east-1-media/derived/catalog/product/*'),
      ]);
    }
    expect(byAction.get('sqs:SendMessage')).toEqual([
      JSON.stringify({ 'Fn::GetAtt': ['ImageVariantsFailureQueue', 'Arn'] }),
    ]);
  });

  it('lets imageServe read originals and read/write (never delete) only the derived prefix', () => {
    const byAction = resourcesByAction('ImageServeRole');
    expect([...byAction.keys()].sort()).toEqual(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:ListBucket', 's3:PutObject'].sort(),
    );
    const bucket = ':s3:::m2-eks-pipeline-citest-us-east-1-media';
    expect(byAction.get('s3:PutObject')).toEqual([
      expect.stringContaining(`${bucket}/derived/catalog/product/*`),
    ]);
    expect(byAction.get('s3:GetObject')).toEqual([
      expect.stringContaining(`${bucket}/catalog/product/*`),
      expect.stringContaining(`${bucket}/derived/catalog/product/*`),
    ]);
    expect(byAction.get('s3:ListBucket')).toEqual([expect.stringMatching(new RegExp(`${bucket}"`))]);
  });

  it('exposes imageServe only through an IAM-authenticated function URL, and no CDN unless asked', () => {
    expect(template.Resources.ImageServeLambdaFunctionUrl?.Properties.AuthType).toBe('AWS_IAM');
    const conditional = template as unknown as {
      Conditions: Record<string, unknown>;
      Resources: Record<string, { Condition?: string }>;
    };
    const cdn = Object.entries(conditional.Resources).filter(([id]) => id.startsWith('ImageCdn'));
    expect(cdn.length).toBeGreaterThan(0);
    for (const [id, resource] of cdn) expect(resource.Condition, id).toBe('CreateImageCdn');
    expect(conditional.Conditions.CreateImageCdn).toEqual({ 'Fn::Equals': ['false', 'true'] });
  });

  it('builds a lint-clean CloudFront origin group that may read only the derived prefix (imageCdn=true)', async () => {
    const file = await packageService(['--param=imageCdn=true']);
    const code = await cfnLintCode(file);
    expect(code & 2).toBe(0);
    const cdn = JSON.parse(readFileSync(file, 'utf8')) as Template;
    const policy = cdn.Resources.ImageCdnBucketPolicy?.Properties.PolicyDocument as {
      Statement: Statement[];
    };
    expect(policy.Statement.map((s) => [s.Action, JSON.stringify(s.Resource)])).toEqual([
      ['s3:GetObject', expect.stringContaining('/derived/catalog/product/*')],
    ]);
    const config = cdn.Resources.ImageCdn?.Properties.DistributionConfig as {
      OriginGroups: {
        Items: {
          FailoverCriteria: { StatusCodes: { Items: number[] } };
          Members: { Items: { OriginId: string }[] };
        }[];
      };
    };
    const group = config.OriginGroups.Items[0];
    expect(group?.Members.Items.map((m) => m.OriginId)).toEqual(['derived', 'image-serve']);
    expect(group?.FailoverCriteria.StatusCodes.Items).toEqual([403, 404]);
    expect(String(cdn.Resources.ImageCdnRequestFunction?.Properties.FunctionCode)).toContain(
      'function handler(event)',
    );
  }, 300_000);

  it('packages sharp with its linux-x64 native binaries next to the bundle', async () => {
    const { stdout } = await run('unzip', ['-l', join(dir, 'imageVariants.zip')]);
    expect(stdout).toContain('functions/imageVariants.js');
    expect(stdout).toMatch(/node_modules\/@img\/sharp-linux-x64\/lib\/sharp-linux-x64-[\d.]+\.node/);
    expect(stdout).toMatch(/node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/);
  });

  it('wires the bucket notifications to imageVariants for the originals prefix only', () => {
    const bucket = template.Resources.MediaBucket?.Properties as {
      NotificationConfiguration: {
        LambdaConfigurations: { Event: string; Filter: { S3Key: { Rules: { Value: string }[] } } }[];
      };
    };
    const configs = bucket.NotificationConfiguration.LambdaConfigurations;
    expect(configs.map((c) => [c.Event, c.Filter.S3Key.Rules[0]?.Value])).toEqual([
      ['s3:ObjectCreated:*', 'catalog/product/'],
      ['s3:ObjectRemoved:*', 'catalog/product/'],
    ]);
  });
  it('lets consumerScaler read queue depth, metrics and its cluster, nothing else', () => {
    const byAction = resourcesByAction('ConsumerScalerRole');
    expect([...byAction.keys()].sort()).toEqual(
      [
        'cloudwatch:GetMetricData',
        'eks:DescribeCluster',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:GetQueueAttributes',
      ].sort(),
    );
    expect(byAction.get('sqs:GetQueueAttributes')).toEqual([
      // Only this account and region; the queue-name pattern is the shopQueueNamePattern parameter.
      expect.stringMatching(/:sqs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\*"/),
    ]);
    expect(byAction.get('eks:DescribeCluster')).toEqual([expect.stringContaining(':cluster/')]);
    const fn = template.Resources.ConsumerScalerLambdaFunction?.Properties as { Role: unknown };
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['ConsumerScalerRole', 'Arn'] });
  });

  it('lets rollout report job results and find its cluster, nothing else', () => {
    const byAction = resourcesByAction('RolloutRole');
    expect([...byAction.keys()].sort()).toEqual(
      [
        'codepipeline:PutJobFailureResult',
        'codepipeline:PutJobSuccessResult',
        'eks:DescribeCluster',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    expect(byAction.get('eks:DescribeCluster')).toEqual([expect.stringContaining(':cluster/')]);
    expect(byAction.get('logs:PutLogEvents')).toEqual([expect.stringContaining('-rollout:*')]);
    const fn = template.Resources.RolloutLambdaFunction?.Properties as { Role: unknown; Timeout: number };
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['RolloutRole', 'Arn'] });
    expect(fn.Timeout).toBe(900);
  });

  it('wakes consumerScaler every minute and when the shop-queue backlog alarm goes to ALARM', () => {
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const targetsScaler = (r: { Properties: Record<string, unknown> }): boolean =>
      JSON.stringify(r.Properties.Targets).includes('ConsumerScalerLambdaFunction');
    const scalerRules = rules.filter(targetsScaler);
    expect(scalerRules.map((r) => r.Properties.ScheduleExpression).filter(Boolean)).toEqual([
      'rate(1 minute)',
    ]);
    const alarmRule = scalerRules.find((r) => r.Properties.EventPattern !== undefined);
    expect(alarmRule?.Properties.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: ['m2-eks-pipeline-citest-shop-queue-backlog'], state: { value: ['ALARM'] } },
    });
    const alarm = template.Resources.ShopQueueBacklogAlarm?.Properties as {
      AlarmName: string;
      Metrics: unknown;
    };
    expect(alarm.AlarmName).toBe('m2-eks-pipeline-citest-shop-queue-backlog');
    expect(JSON.stringify(alarm.Metrics)).toContain('ApproximateNumberOfMessagesVisible');
  });
});

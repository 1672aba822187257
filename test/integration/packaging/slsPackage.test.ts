import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageVariantsConfig } from '../../../lib/config/imageVariantsConfig.ts';
import { derivedUrlPrefix } from '../../../lib/images/imageUrl.ts';
import { classifyKey } from '../../../lib/images/keyLayout.ts';
import { metricNames } from '../../../lib/observability/metricNames.ts';
import { targetAnnotations } from '../../../lib/scaling/annotations.ts';
import { queueNameOf } from '../../../lib/scaling/target.ts';
import { allOptionsParams } from '../../../scripts/scan/package.ts';
import { scanCloudFormation } from '../../../scripts/scan/scan.ts';
import { configMapData, render, shopOverlays } from '../../helpers/manifests.ts';

const run = promisify(execFile);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: Record<string, unknown>;
}
interface Output {
  Value: unknown;
  Condition?: string;
}
interface Template {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Default?: string }>;
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, Output>;
}

let dir: string;
let template: Template;

/** Package directories this file made (about 25 MB each), removed after the tests. */
const packageDirs: string[] = [];

/** `sls package` offline (dummy credentials, no endpoint), exactly as a user runs it on a fresh clone. */
async function packageService(
  extraArgs: readonly string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'm2-sls-'));
  // sls's own temp dir: serverless-esbuild 1.57 leaves its zip staging directory (≈ 25 MB per
  // function) in the OS temp dir on every package (floydspace/serverless-esbuild#589).
  const staging = mkdtempSync(join(tmpdir(), 'm2-sls-tmp-'));
  packageDirs.push(out, staging);
  const { AWS_ENDPOINT_URL: _endpoint, MEDIA_BUCKET: _bucket, ...env } = process.env;
  await run('npx', ['sls', 'package', '--stage', 'citest', '--package', out, ...extraArgs], {
    env: {
      ...env,
      ...extraEnv,
      AWS_ACCESS_KEY_ID: 'offline',
      AWS_SECRET_ACCESS_KEY: 'offline',
      TMPDIR: staging,
    },
    // 3.5 min measured for one packaging on the shared 2-core machine under load.
    timeout: 420_000,
  });
  return join(out, 'cloudformation-template-update-stack.json');
}

/** The all-options template (scripts/scan/package.ts), packaged once for the CDN test and the scanners. */
let allOptionsPackage: Promise<string> | undefined;
const packageAllOptions = (): Promise<string> => {
  allOptionsPackage ??= packageService(allOptionsParams);
  return allOptionsPackage;
};

/** serverless.yml as sls resolves it for a stage (`sls print`: variables resolved, nothing built). */
async function printService(stage: string): Promise<ResolvedService> {
  const { AWS_ENDPOINT_URL: _endpoint, MEDIA_BUCKET: _bucket, ...env } = process.env;
  const { stdout } = await run('npx', ['sls', 'print', '--stage', stage, '--format', 'json'], {
    env: { ...env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline' },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ResolvedService;
}

interface ResolvedService {
  functions: Record<string, { environment: Record<string, string> }>;
  resources: { Resources: Record<string, Resource> };
}

/** cfn-lint's exit code, a bit mask: 2 = error, 4 = warning, 8 = informational; errors and warnings are printed. */
async function cfnLintCode(file: string): Promise<number> {
  return run('cfn-lint', [file]).then(
    () => 0,
    (error: { code?: number; stdout?: string }) => {
      if ((error.code ?? 0) & (2 | 4)) console.error(error.stdout);
      return error.code ?? 1;
    },
  );
}

beforeAll(async () => {
  const file = await packageService();
  dir = dirname(file);
  template = JSON.parse(readFileSync(file, 'utf8')) as Template;
}, 300_000);

afterAll(() => {
  for (const d of packageDirs) rmSync(d, { recursive: true, force: true });
});

const statementsOf = (roleId: string): Statement[] => {
  const role = template.Resources[roleId];
  const policies = (role?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
};

/** Every `Action` of a policy document, Fn::If branches included. */
const actionsIn = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(actionsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === 'Action' ? [inner].flat().map(String) : actionsIn(inner),
  );
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

const functionKeys = ['imageVariants', 'imageServe', 'consumerScaler', 'rollout'] as const;
type FunctionKey = (typeof functionKeys)[number];
const roleOf: Record<FunctionKey, string> = {
  imageVariants: 'ImageVariantsRole',
  imageServe: 'ImageServeRole',
  consumerScaler: 'ConsumerScalerRole',
  rollout: 'RolloutRole',
};

/**
 * What the resources named in role policies belong to (matched on the JSON of a statement's resource,
 * stage `citest`, default params) and which functions may touch them. A resource no row matches fails
 * the ownership test too, so a new grant has to be placed here first.
 */
const ownedResources: { what: string; pattern: RegExp; owners: readonly FunctionKey[] }[] = [
  ...functionKeys.map((key) => ({
    what: `the log group of ${key}`,
    pattern: new RegExp(`:log-group:/aws/lambda/m2-eks-pipeline-citest-${key}:`),
    owners: [key],
  })),
  {
    what: 'the image-variants failure queue',
    pattern: /"ImageVariantsFailureQueue"/,
    owners: ['imageVariants'],
  },
  {
    what: "the shop's queues",
    pattern: /"Shop\w+(Queue|Dlq)"|:sqs:[^"]*:example-shop-/,
    owners: ['consumerScaler'],
  },
  {
    what: 'the media bucket',
    pattern: /:s3:::m2-eks-pipeline-citest-us-east-1-media[/"]/,
    owners: ['imageVariants', 'imageServe'],
  },
  { what: 'the EKS cluster', pattern: /:eks:[^"]*:cluster\//, owners: ['consumerScaler', 'rollout'] },
];

/** Actions without resource-level permissions (AWS accepts only "*"), and the functions that may hold them. */
const starOnlyActions: Record<string, readonly FunctionKey[]> = {
  'cloudwatch:GetMetricData': ['consumerScaler'],
  'codepipeline:PutJobSuccessResult': ['rollout'],
  'codepipeline:PutJobFailureResult': ['rollout'],
  // Checks each invocation's job (issue 15); CodePipeline's job actions take no resource ARN.
  'codepipeline:GetJobDetails': ['rollout'],
  'xray:PutTraceSegments': functionKeys,
  'xray:PutTelemetryRecords': functionKeys,
};

/** What provider.tracing needs in every role (osls adds it only to the role it would generate). */
const tracingActions = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

/** The stack's retained resources: the originals and the shop's messages (README "Removing a stage"). */
const retained = [
  'MediaBucket',
  ...['AsyncOperations', 'Export', 'MediaResize', 'ProductUpdates'].flatMap((q) => [
    `Shop${q}Queue`,
    `Shop${q}Dlq`,
  ]),
];

interface BucketPolicyStatement {
  Sid: string;
  Effect: string;
  Principal: unknown;
  Action: string;
  Resource: unknown;
  Condition?: unknown;
}

/** The media bucket's policy statements, with an `Fn::If` of the CDN condition resolved as `cdn` says. */
function mediaBucketStatements(resources: Record<string, Resource>, cdn: boolean): BucketPolicyStatement[] {
  const policies = Object.entries(resources).filter(
    ([, r]) =>
      r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties.Bucket) === '{"Ref":"MediaBucket"}',
  );
  // One bucket, one policy: a second BucketPolicy resource on it would replace the first.
  expect(policies.map(([id]) => id)).toEqual(['MediaBucketPolicy']);
  const policy = policies[0]?.[1].Properties as {
    PolicyDocument: { Statement: (BucketPolicyStatement | { 'Fn::If': [string, unknown, unknown] })[] };
  };
  return policy.PolicyDocument.Statement.flatMap((st) => {
    if (!('Fn::If' in st)) return [st];
    const [condition, whenTrue, whenFalse] = st['Fn::If'];
    expect(condition).toBe('CreateImageCdn');
    expect(whenFalse).toEqual({ Ref: 'AWS::NoValue' });
    return cdn ? [whenTrue as BucketPolicyStatement] : [];
  });
}

/** The TLS-only statement every media bucket policy starts with. */
const denyInsecureTransport = (bucketName: string): BucketPolicyStatement => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [
    { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}` },
    { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/*` },
  ],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

/** Every resource JSON a role's statements name, with the statement's actions. */
const grantsOf = (roleId: string): { actions: string[]; resource: string }[] =>
  statementsOf(roleId).flatMap((s) =>
    [s.Resource].flat().map((r) => ({ actions: [s.Action].flat(), resource: JSON.stringify(r) })),
  );

/** How serverless.yml points a function at its role (see the comment above its functions). */
const roleArnOf = (roleId: string): unknown => ({ 'Fn::Sub': `\${${roleId}.Arn}` });

const resourcesOfType = (type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** The example overlay's consumer Deployments (what the shop's queues must fit). */
function overlayConsumers(): {
  queueName: string;
  worstCaseBatchSeconds: number;
  gracePeriodSeconds: number;
}[] {
  return render('overlays/example-shop')
    .objects.filter((o) => o.kind === 'Deployment')
    .flatMap((o) => {
      const d = o as unknown as V1Deployment;
      const annotations = d.metadata?.annotations ?? {};
      const queueUrl = annotations[targetAnnotations.queueUrl];
      if (queueUrl === undefined) return [];
      return [
        {
          queueName: queueNameOf(queueUrl),
          worstCaseBatchSeconds: Number(annotations['m2-eks-pipeline.io/worst-case-batch-seconds']),
          gracePeriodSeconds: d.spec?.template.spec?.terminationGracePeriodSeconds ?? Number.NaN,
        },
      ];
    });
}

/** The media roots serverless.yml configures by default (its `mediaRoots` param). */
const defaultRoots = ['catalog/product/', 'catalog/category/', 'attribute/swatch/', 'wysiwyg/'];

/** The JSON of the ReadOriginals resources: every root's objects under the media directory's key. */
const originalsArnsJson = (bucketName: string, keyPrefix: string, roots = defaultRoots): string =>
  JSON.stringify(
    roots.map((root) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/${keyPrefix}${root}*` })),
  );

/**
 * The s3:prefix values a role's ListMedia statement allows ListBucket with. The statement must carry
 * exactly that one condition: without it the role could list the whole bucket (every shop sharing it).
 */
function listedPrefixesOf(resources: Record<string, Resource>, roleId: string): unknown {
  const statements = (
    (resources[roleId]?.Properties.Policies ?? []) as {
      PolicyDocument: { Statement: (Statement & { Sid?: string; Condition?: unknown })[] };
    }[]
  ).flatMap((p) => p.PolicyDocument.Statement);
  const listing = statements.filter((st) => [st.Action].flat().includes('s3:ListBucket'));
  expect(
    listing.map((st) => st.Sid),
    roleId,
  ).toEqual(['ListMedia']);
  const condition = listing[0]?.Condition as { StringLike?: Record<string, unknown> } | undefined;
  expect(Object.keys(condition ?? {}), roleId).toEqual(['StringLike']);
  expect(Object.keys(condition?.StringLike ?? {}), roleId).toEqual(['s3:prefix']);
  return condition?.StringLike?.['s3:prefix'];
}

/** What both image roles may list: each root's originals and the derived prefix, nothing else. */
const listedPrefixesFor = (mediaKey: string, derivedPrefix: string, roots = defaultRoots): string[] => [
  ...roots.map((root) => `${mediaKey}${root}*`),
  `${derivedPrefix}*`,
];

/** [event, prefix] of each of the media bucket's notifications to imageVariants. */
function notificationsOf(resources: Record<string, Resource>): [string, string | undefined][] {
  const bucket = resources.MediaBucket?.Properties as {
    NotificationConfiguration: {
      LambdaConfigurations: {
        Event: string;
        Function: unknown;
        Filter: { S3Key: { Rules: { Name: string; Value: string }[] } };
      }[];
    };
  };
  return bucket.NotificationConfiguration.LambdaConfigurations.map((c) => {
    expect(c.Function).toEqual({ 'Fn::GetAtt': ['ImageVariantsLambdaFunction', 'Arn'] });
    expect(c.Filter.S3Key.Rules.map((r) => r.Name)).toEqual(['prefix']);
    return [c.Event, c.Filter.S3Key.Rules[0]?.Value];
  });
}

const functionEnv = (resources: Record<string, Resource>, id: string): Record<string, string> =>
  (resources[id]?.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ??
  {};

describe('sls package', () => {
  it('produces a template with zero cfn-lint errors and warnings', async () => {
    const code = await cfnLintCode(join(dir, 'cloudformation-template-update-stack.json'));
    // Warnings too: moto's ValidateTemplate refuses a template with any cfn-lint finding, so the deploy
    // test needs a clean one, and this finds the culprit in seconds.
    expect(code & (2 | 4)).toBe(0);
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

  it('grants no wildcard action in the conditional policies either (crypt key, signing keys, token key)', () => {
    const policies = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Policy');
    expect(policies.map(([id]) => id).sort()).toEqual([
      'ImageServeSigningSecretPolicy',
      'ImageVariantsCryptKeyPolicy',
      'RolloutTokenSecretPolicy',
    ]);
    for (const [id, policy] of policies) {
      const actions = actionsIn(policy.Properties.PolicyDocument);
      expect(actions.length, id).toBeGreaterThan(0);
      for (const action of actions) expect(action, `${id}: ${action}`).not.toContain('*');
    }
  });

  it("lets only rollout read its token key's one secret, under its condition", () => {
    const policy = template.Resources.RolloutTokenSecretPolicy;
    expect(policy?.Condition).toBe('SignsRolloutTokens');
    expect(policy?.Properties.Roles).toEqual([{ Ref: 'RolloutRole' }]);
    expect((policy?.Properties.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement).toEqual([
      {
        Sid: 'ReadTokenKey',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: { Ref: 'RolloutTokenSecret' },
      },
    ]);
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
        ...tracingActions,
      ].sort(),
    );
    for (const action of ['s3:PutObject', 's3:DeleteObject']) {
      expect(byAction.get(action)).toEqual([
        expect.stringContaining(':s3:::m2-eks-pipeline-citest-us-east-1-media/derived/*'),
      ]);
    }
    expect(byAction.get('s3:GetObject')).toEqual([
      originalsArnsJson('m2-eks-pipeline-citest-us-east-1-media', 'media/'),
      expect.stringContaining(':s3:::m2-eks-pipeline-citest-us-east-1-media/derived/*'),
    ]);
    expect(byAction.get('sqs:SendMessage')).toEqual([
      JSON.stringify({ 'Fn::GetAtt': ['ImageVariantsFailureQueue', 'Arn'] }),
    ]);
  });

  it('lets imageServe read originals and read/write (never delete) only the derived prefix', () => {
    const byAction = resourcesByAction('ImageServeRole');
    expect([...byAction.keys()].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        ...tracingActions,
      ].sort(),
    );
    const bucket = ':s3:::m2-eks-pipeline-citest-us-east-1-media';
    expect(byAction.get('s3:PutObject')).toEqual([expect.stringContaining(`${bucket}/derived/*`)]);
    expect(byAction.get('s3:GetObject')).toEqual([
      originalsArnsJson('m2-eks-pipeline-citest-us-east-1-media', 'media/'),
      expect.stringContaining(`${bucket}/derived/*`),
    ]);
    expect(byAction.get('s3:ListBucket')).toEqual([expect.stringMatching(new RegExp(`${bucket}"`))]);
  });

  it.each(['ImageVariantsRole', 'ImageServeRole'])(
    '%s may list only under the media roots and the derived prefix',
    (roleId) => {
      expect(listedPrefixesOf(template.Resources, roleId)).toEqual(listedPrefixesFor('media/', 'derived/'));
    },
  );

  it('exposes imageServe only through an IAM-authenticated function URL, and no CDN unless asked', () => {
    expect(template.Resources.ImageServeLambdaFunctionUrl?.Properties.AuthType).toBe('AWS_IAM');
    const cdn = Object.entries(template.Resources).filter(([id]) => id.startsWith('ImageCdn'));
    expect(cdn.length).toBeGreaterThan(0);
    for (const [id, resource] of cdn) expect(resource.Condition, id).toBe('CreateImageCdn');
    expect(template.Conditions?.CreateImageCdn).toEqual({
      'Fn::Equals': [{ Ref: 'ImageCdnEnabled' }, 'true'],
    });
    expect(template.Parameters?.ImageCdnEnabled?.Default).toBe('false');
  });

  it('builds a lint-clean CloudFront origin group that may read only the derived prefix (imageCdn=true)', async () => {
    // The all-options template: alertEmail, mediaNoncurrentVersionDays=7 and the rest ride along to
    // spare more packagings (the scanners below read it too).
    const file = await packageAllOptions();
    const code = await cfnLintCode(file);
    expect(code & (2 | 4)).toBe(0);
    const cdn = JSON.parse(readFileSync(file, 'utf8')) as Template;
    expect(cdn.Parameters?.ImageCdnEnabled?.Default).toBe('true');
    expect(cdn.Parameters?.AlertEmailAddress?.Default).toBe('ops@example.com');
    const statements = mediaBucketStatements(cdn.Resources, true);
    expect(statements[0]).toEqual(denyInsecureTransport('m2-eks-pipeline-citest-us-east-1-media'));
    expect(
      statements.slice(1).map((s) => [s.Effect, s.Principal, s.Action, JSON.stringify(s.Resource)]),
    ).toEqual([
      [
        'Allow',
        { Service: 'cloudfront.amazonaws.com' },
        's3:GetObject',
        expect.stringContaining('/derived/*'),
      ],
    ]);
    expect(JSON.stringify(statements[1]?.Condition)).toContain(`:distribution/\${ImageCdn}`);
    const lifecycle = cdn.Resources.MediaBucket?.Properties.LifecycleConfiguration as
      | { Rules: { Id: string; NoncurrentVersionExpiration: { NoncurrentDays: unknown } }[] }
      | undefined;
    const rules = lifecycle?.Rules ?? [];
    // A --param arrives as a string; CloudFormation (and cfn-lint, above) take "7" for the integer.
    expect(
      String(
        rules.find((r) => r.Id === 'expire-noncurrent-versions')?.NoncurrentVersionExpiration.NoncurrentDays,
      ),
    ).toBe('7');
    expect(cdn.Outputs?.ImageCdnDomainName).toEqual({
      Condition: 'CreateImageCdn',
      Value: { 'Fn::GetAtt': ['ImageCdn', 'DomainName'] },
    });
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

    // The function URL stays AWS_IAM with the CDN on: CloudFront signs every origin request (OAC of
    // type lambda) and is the only principal allowed to invoke, and only for this distribution.
    expect(cdn.Resources.ImageServeLambdaFunctionUrl?.Properties.AuthType).toBe('AWS_IAM');
    const { Origins: origins } = config as unknown as {
      Origins: { Id: string; OriginAccessControlId?: unknown }[];
    };
    const serveOrigin = origins.find((o) => o.Id === 'image-serve');
    expect(serveOrigin?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': ['ImageCdnLambdaAccess', 'Id'] });
    expect(cdn.Resources.ImageCdnLambdaAccess?.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 'lambda',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const permissions = Object.values(cdn.Resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    const onServe = permissions.filter(
      (r) =>
        JSON.stringify(r.Properties.FunctionName) === '{"Fn::GetAtt":["ImageServeLambdaFunction","Arn"]}',
    );
    expect(onServe.map((r) => r.Properties.Action).sort()).toEqual([
      'lambda:InvokeFunction',
      'lambda:InvokeFunctionUrl',
    ]);
    for (const permission of onServe) {
      expect(permission.Properties.Principal).toBe('cloudfront.amazonaws.com');
      expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`:distribution/\${ImageCdn}`);
    }
  }, 300_000);

  it('packages sharp with its linux-x64 native binaries next to the bundle', async () => {
    const { stdout } = await run('unzip', ['-l', join(dir, 'imageVariants.zip')]);
    expect(stdout).toContain('functions/imageVariants.js');
    expect(stdout).toMatch(/node_modules\/@img\/sharp-linux-x64\/lib\/sharp-linux-x64-[\d.]+\.node/);
    expect(stdout).toMatch(/node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/);
  });

  it("triggers imageVariants on both event types under every media root of Magento's media directory", () => {
    expect(notificationsOf(template.Resources)).toEqual([
      ...defaultRoots.map((root) => ['s3:ObjectCreated:*', `media/${root}`]),
      ...defaultRoots.map((root) => ['s3:ObjectRemoved:*', `media/${root}`]),
    ]);
    const env = functionEnv(template.Resources, 'ImageVariantsLambdaFunction');
    expect(env).toMatchObject({ MEDIA_PREFIX: 'media/', DERIVED_PREFIX: 'derived/' });
    expect(env.MEDIA_ROOTS?.split(',')).toEqual(defaultRoots);
  });

  it("lets both image functions read Magento's crypt key from its one SSM parameter, only when named", () => {
    const policy = template.Resources.ImageVariantsCryptKeyPolicy;
    expect(policy?.Condition).toBe('ReadsMagentoCryptKey');
    expect(template.Conditions?.ReadsMagentoCryptKey).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'MagentoCryptKeyParameter' }, ''] }],
    });
    expect(template.Parameters?.MagentoCryptKeyParameter?.Default).toBe('');
    const document = policy?.Properties.PolicyDocument as { Statement: Statement[] };
    expect(document.Statement.map((st) => [st.Action, JSON.stringify(st.Resource)])).toEqual([
      [['ssm:GetParameter'], expect.stringContaining(':parameter${MagentoCryptKeyParameter}')],
    ]);
    expect(policy?.Properties.Roles).toEqual([{ Ref: 'ImageVariantsRole' }, { Ref: 'ImageServeRole' }]);
    const env = functionEnv(template.Resources, 'ImageVariantsLambdaFunction');
    expect(
      Object.keys(env)
        .filter((name) => name.startsWith('MAGENTO_'))
        .sort(),
      // MAGENTO_VIEW_XML: the packaged theme files (serverless.viewXml.js), empty without magentoViewXml.
    ).toEqual(['MAGENTO_CRYPT_KEY_PARAMETER', 'MAGENTO_HASH_ALGORITHM', 'MAGENTO_VIEW_XML']);
    expect(env.MAGENTO_VIEW_XML).toBe('');
  });

  it("bounds the age of consumerScaler's scheduled events: a stale minute is dropped, not retried", () => {
    // Lambda's asynchronous queue (the schedule invokes asynchronously).
    expect(template.Resources.ConsumerScalerLambdaEvConf?.Properties).toMatchObject({
      MaximumEventAgeInSeconds: 60,
      MaximumRetryAttempts: 0,
    });
    // EventBridge's own delivery retries, on the schedule's target (its only rule).
    const scalerRules = resourcesOfType('AWS::Events::Rule').filter(([, rule]) =>
      JSON.stringify(rule.Properties.Targets).includes('ConsumerScalerLambdaFunction'),
    );
    expect(scalerRules).toHaveLength(1);
    for (const [id, rule] of scalerRules) {
      const targets = rule.Properties.Targets as { Arn: unknown; RetryPolicy?: unknown }[];
      expect(targets, id).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': ['ConsumerScalerLambdaFunction', 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 },
        }),
      ]);
    }
  });

  it("alarms the operator topic on consumerScaler's silent freezes: unreadable queues and skipped Deployments", () => {
    for (const [id, metric] of [
      ['ConsumerScalerQueueReadErrorsAlarm', metricNames.consumerScaler.queueReadErrors],
      ['ConsumerScalerTargetsSkippedAlarm', metricNames.consumerScaler.targetsSkipped],
    ] as const) {
      const alarm = template.Resources[id]?.Properties as {
        Metrics: { Expression: string }[];
        AlarmActions: unknown;
        Threshold: number;
      };
      expect(alarm.Metrics[0]?.Expression, id).toBe(`SELECT SUM(${metric}) FROM M2EksPipeline`);
      expect(alarm.AlarmActions, id).toEqual([{ Ref: 'AlertTopic' }]);
      expect(alarm.Threshold, id).toBe(3);
    }
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
        ...tracingActions,
      ].sort(),
    );
    expect(byAction.get('sqs:GetQueueAttributes')).toEqual([
      // Only this account and region; the queue-name pattern is the shopQueueNamePattern parameter.
      expect.stringMatching(/:sqs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:example-shop-\*"/),
    ]);
    expect(byAction.get('eks:DescribeCluster')).toEqual([expect.stringContaining(':cluster/')]);
    const fn = template.Resources.ConsumerScalerLambdaFunction?.Properties as { Role: unknown };
    expect(fn.Role).toEqual(roleArnOf('ConsumerScalerRole'));
  });

  it('lets rollout report job results and find its cluster, nothing else', () => {
    const byAction = resourcesByAction('RolloutRole');
    expect([...byAction.keys()].sort()).toEqual(
      [
        'codepipeline:GetJobDetails',
        'codepipeline:PutJobFailureResult',
        'codepipeline:PutJobSuccessResult',
        'eks:DescribeCluster',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        ...tracingActions,
      ].sort(),
    );
    expect(byAction.get('eks:DescribeCluster')).toEqual([expect.stringContaining(':cluster/')]);
    expect(byAction.get('logs:PutLogEvents')).toEqual([expect.stringContaining('-rollout:*')]);
    const fn = template.Resources.RolloutLambdaFunction?.Properties as { Role: unknown; Timeout: number };
    expect(fn.Role).toEqual(roleArnOf('RolloutRole'));
    expect(fn.Timeout).toBe(900);
  });

  it('wakes consumerScaler every minute, by the schedule alone', () => {
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const targetsScaler = (r: { Properties: Record<string, unknown> }): boolean =>
      JSON.stringify(r.Properties.Targets).includes('ConsumerScalerLambdaFunction');
    const scalerRules = rules.filter(targetsScaler);
    expect(scalerRules.map((r) => r.Properties.ScheduleExpression).filter(Boolean)).toEqual([
      'rate(1 minute)',
    ]);
    // The schedule is the only trigger (each invocation watches the queues for its minute): the backlog
    // alarm's rule is gone with the alarm, whose SQS metrics could not wake the scaler sooner than ≈ 3 min.
    expect(scalerRules.filter((r) => r.Properties.EventPattern !== undefined)).toEqual([]);
    expect(template.Resources.ShopQueueBacklogAlarm).toBeUndefined();
  });

  it.each(functionKeys)("keeps the role of %s away from every other function's resources", (key) => {
    const grants = grantsOf(roleOf[key]);
    expect(grants.length).toBeGreaterThan(0);
    for (const { actions, resource } of grants) {
      if (resource === '"*"') {
        for (const action of actions)
          expect(starOnlyActions[action], `${key}: ${action} on "*"`).toContain(key);
        continue;
      }
      const owners = ownedResources.filter((o) => o.pattern.test(resource));
      expect(
        owners.map((o) => o.what),
        `${key}: ${resource} belongs to nothing known`,
      ).not.toEqual([]);
      // Soft, so one run lists every trespass of the role.
      for (const owner of owners)
        expect.soft(owner.owners, `${key} may not touch ${owner.what}`).toContain(key);
    }
    // Its own log group is the only one it writes to.
    const logResources = grants
      .filter((g) => g.actions.some((a) => a.startsWith('logs:')))
      .map((g) => g.resource);
    expect(logResources.length).toBeGreaterThan(0);
    for (const r of logResources) expect(r).toContain(`/aws/lambda/m2-eks-pipeline-citest-${key}:*`);
  });

  it.each(ownedResources)('finds $what in some role, so its ownership row is not dead', ({ pattern }) => {
    const named = functionKeys
      .flatMap((key) => grantsOf(roleOf[key]))
      .filter((g) => pattern.test(g.resource));
    expect(named.length).toBeGreaterThan(0);
  });

  it("names the shop's queues as the example overlay's consumers expect, each fitting its batch", () => {
    const consumers = overlayConsumers();
    const queues = resourcesOfType('AWS::SQS::Queue').filter(([id]) => /^Shop\w+Queue$/.test(id));
    expect(queues.map(([, q]) => q.Properties.QueueName).sort()).toEqual(
      consumers.map((c) => c.queueName).sort(),
    );
    for (const [id, queue] of queues) {
      const consumer = consumers.find((c) => c.queueName === queue.Properties.QueueName);
      // A batch may hold a message until its pod's grace period ends; only then may it reappear.
      expect(queue.Properties.VisibilityTimeout, id).toBe(consumer?.gracePeriodSeconds);
      expect(queue.Properties.VisibilityTimeout, id).toBeGreaterThan(
        consumer?.worstCaseBatchSeconds ?? Infinity,
      );
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
    }
  });

  it('dead-letters every shop queue to its own encrypted 14-day queue after 5 receives', () => {
    const queues = resourcesOfType('AWS::SQS::Queue').filter(([id]) => /^Shop\w+Queue$/.test(id));
    expect(queues).toHaveLength(4);
    for (const [id, queue] of queues) {
      const dlqId = id.replace(/Queue$/, 'Dlq');
      expect(queue.Properties.RedrivePolicy, id).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: 5,
      });
      expect(template.Resources[dlqId]?.Properties).toEqual({
        QueueName: `${queue.Properties.QueueName}-dlq`,
        MessageRetentionPeriod: 1209600,
        SqsManagedSseEnabled: true,
      });
    }
  });

  it('sends every alarm to the alert topic', () => {
    const alarms = resourcesOfType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: 'AlertTopic' }]);
    }
    expect(template.Resources.AlertTopic?.Type).toBe('AWS::SNS::Topic');
    expect(template.Resources.AlertEmailSubscription?.Condition).toBe('SubscribeAlertEmail');
    expect(template.Parameters?.AlertEmailAddress?.Default).toBe('');
  });

  it('alarms on the errors of every function and on every dead-letter queue', () => {
    const watched = resourcesOfType('AWS::CloudWatch::Alarm').map(([, a]) => JSON.stringify(a.Properties));
    for (const key of functionKeys) {
      expect(watched, key).toContainEqual(
        expect.stringMatching(new RegExp(`"MetricName":"Errors".*"Value":"m2-eks-pipeline-citest-${key}"`)),
      );
    }
    const deadLetterQueues = [
      'ImageVariantsFailureQueue',
      ...resourcesOfType('AWS::SQS::Queue')
        .filter(([, q]) => q.Properties.RedrivePolicy !== undefined)
        .map(
          ([, q]) =>
            (q.Properties.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': string[] } })
              .deadLetterTargetArn['Fn::GetAtt'][0],
        ),
    ];
    expect(deadLetterQueues).toHaveLength(5);
    for (const queue of deadLetterQueues) {
      expect(watched, queue).toContainEqual(
        expect.stringContaining(
          `"MetricName":"ApproximateNumberOfMessagesVisible","Dimensions":[{"Name":"QueueName","Value":{"Fn::GetAtt":["${queue}","QueueName"]}}]`,
        ),
      );
    }
  });

  describe('the operations dashboard', () => {
    const widgets = (): { properties: { metrics: unknown[][] } }[] => {
      const body = template.Resources.OperationsDashboard?.Properties.DashboardBody as { 'Fn::Sub': string };
      // The body must be JSON once CloudFormation has substituted the region.
      const parsed = JSON.parse(body['Fn::Sub'].replaceAll(/\$\{AWS::Region\}/g, 'us-east-1')) as {
        widgets: { properties: { metrics: unknown[][] } }[];
      };
      return parsed.widgets;
    };
    const lines = (): unknown[][] => widgets().flatMap((w) => w.properties.metrics);
    const expressions = (): string[] =>
      lines().flatMap((line) =>
        line.flatMap((item) =>
          typeof item === 'object' && item !== null && 'expression' in item ? [String(item.expression)] : [],
        ),
      );

    it.each(Object.values(metricNames).flatMap((names) => Object.values(names)))('shows %s', (name) => {
      expect(expressions()).toContainEqual(
        expect.stringContaining(`SEARCH('Namespace="M2EksPipeline" MetricName="${name}"'`),
      );
    });

    it('shows errors, duration and throttles of every function', () => {
      for (const metric of ['Errors', 'Duration', 'Throttles']) {
        for (const key of functionKeys) {
          expect(lines()).toContainEqual([
            'AWS/Lambda',
            metric,
            'FunctionName',
            `m2-eks-pipeline-citest-${key}`,
            { label: key },
          ]);
        }
      }
    });

    it('puts desired and ready replicas of each deployment on one graph', () => {
      const replicaGraphs = widgets().filter((w) => {
        const text = JSON.stringify(w.properties.metrics);
        return (
          text.includes(metricNames.consumerScaler.desiredReplicas) &&
          text.includes(metricNames.consumerScaler.readyReplicas)
        );
      });
      expect(replicaGraphs).toHaveLength(1);
    });

    it('shows the depth of every shop queue and dead-letter queue', () => {
      const queueNames = resourcesOfType('AWS::SQS::Queue')
        .map(([, q]) => String(q.Properties.QueueName))
        .filter((name) => name.startsWith('example-shop-') || name.endsWith('-failures'));
      expect(queueNames).toHaveLength(9);
      for (const name of queueNames) {
        expect(lines()).toContainEqual(['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', name]);
      }
    });
  });
});

describe('sls package: data safety, tracing and hygiene', () => {
  const bucketName = 'm2-eks-pipeline-citest-us-east-1-media';

  it('versions the media bucket, expires noncurrent versions after 30 days and aborts stale uploads', () => {
    const bucket = template.Resources.MediaBucket?.Properties as {
      VersioningConfiguration: unknown;
      LifecycleConfiguration: { Rules: Record<string, unknown>[] };
    };
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'expire-noncurrent-versions',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        ExpiredObjectDeleteMarker: true,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      },
      // Variants are regenerated from their original: their old versions go after a day.
      {
        Id: 'expire-noncurrent-variants',
        Status: 'Enabled',
        Prefix: 'derived/',
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ]);
  });

  it("denies every request without TLS in the bucket's one policy, and grants CloudFront nothing unless asked", () => {
    expect(mediaBucketStatements(template.Resources, false)).toEqual([denyInsecureTransport(bucketName)]);
    expect(template.Resources.MediaBucketPolicy?.Condition).toBeUndefined();
  });

  it.each(retained)('keeps %s when the stack is removed or the resource replaced', (id) => {
    expect(template.Resources[id]?.DeletionPolicy).toBe('Retain');
    expect(template.Resources[id]?.UpdateReplacePolicy).toBe('Retain');
  });

  it('retains nothing else: the rest is rebuilt by a deploy', () => {
    const others = Object.entries(template.Resources)
      .filter(([id, r]) => !retained.includes(id) && r.DeletionPolicy === 'Retain')
      .map(([id]) => id);
    expect(others).toEqual([]);
  });

  it.each(functionKeys)('traces %s with X-Ray through its own role', (key) => {
    const id = `${key[0]?.toUpperCase()}${key.slice(1)}LambdaFunction`;
    expect(template.Resources[id]?.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    const byAction = resourcesByAction(roleOf[key]);
    for (const action of tracingActions) expect(byAction.get(action), action).toEqual(['"*"']);
  });

  it('publishes no function versions (nothing invokes one; see provider.versionFunctions)', () => {
    expect(resourcesOfType('AWS::Lambda::Version')).toEqual([]);
    expect(resourcesOfType('AWS::Lambda::Alias')).toEqual([]);
  });

  it("outputs the shop's queue URLs and every function's role ARN", () => {
    const outputs = template.Outputs ?? {};
    for (const [id] of resourcesOfType('AWS::SQS::Queue').filter(([q]) => /^Shop\w+Queue$/.test(q)))
      expect(outputs[`${id}Url`]?.Value, id).toEqual({ Ref: id });
    expect(Object.keys(outputs).filter((o) => /^Shop\w+QueueUrl$/.test(o))).toHaveLength(4);
    for (const key of functionKeys) {
      const role = roleOf[key];
      expect(outputs[`${role}Arn`]?.Value, role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    }
    // The CDN's domain only exists with imageCdn=true (asserted with that packaging above).
    expect(outputs.ImageCdnDomainName?.Condition).toBe('CreateImageCdn');
  });

  it('tags the stack, and so every resource that takes tags, and each function with the shop and the stage', () => {
    const state = JSON.parse(readFileSync(join(dir, 'serverless-state.json'), 'utf8')) as {
      service: { provider: { stackTags?: Record<string, string> } };
    };
    const tags = { shop: 'example-shop', stage: 'citest' };
    // osls passes these to CreateStack/UpdateStack; CloudFormation propagates them to the resources.
    expect(state.service.provider.stackTags).toEqual(tags);
    const functions = resourcesOfType('AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Tags, id).toEqual(
        expect.arrayContaining(Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))),
      );
    }
  });

  it('pins frameworkVersion to the minor release of osls the lockfile installs', () => {
    const pinned = /^frameworkVersion: (\S+)$/m.exec(readFileSync('serverless.yml', 'utf8'))?.[1];
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const installed = lock.packages['node_modules/osls']?.version ?? '';
    // `~x.y.z`: patch releases of the installed minor; osls itself refuses any other version (the
    // packaging in beforeAll ran, so it accepted this one).
    expect(installed).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pinned).toBe(`~${installed}`);
  });
});

describe("each shop's media layout", () => {
  it.each(shopOverlays)(
    '%s: the stack is triggered on, reads and is configured with the keys its Magento writes',
    async (overlay) => {
      const shop = overlay.replace('overlays/', '');
      const magento = configMapData(render(overlay).objects, 'm2-env');
      const bucketName = magento.MAGENTO_REMOTE_STORAGE_BUCKET ?? '';
      // Magento's own rule, not ours: Flysystem's PathPrefixer (rtrim '/', one '/' appended to a
      // non-empty prefix) in front of the media directory's URI path `media` (lib/images/keyLayout.ts).
      const trimmed = (magento.MAGENTO_REMOTE_STORAGE_PREFIX ?? '').replace(/[\\/]+$/, '');
      const mediaKey = `${trimmed === '' ? '' : `${trimmed}/`}media/`;

      const config = await printService(shop);

      expect(bucketName).not.toBe('');
      expect(config.resources.Resources.MediaBucket?.Properties.BucketName).toBe(bucketName);
      const env = config.functions.imageVariants?.environment ?? {};
      expect(env).toMatchObject({ MEDIA_BUCKET: bucketName, MEDIA_PREFIX: mediaKey });
      expect(config.functions.imageServe?.environment.MEDIA_BUCKET).toBe(bucketName);
      const roots = env.MEDIA_ROOTS?.split(',') ?? [];
      expect(roots).toEqual(defaultRoots);
      expect(notificationsOf(config.resources.Resources)).toEqual([
        ...roots.map((root) => ['s3:ObjectCreated:*', `${mediaKey}${root}`]),
        ...roots.map((root) => ['s3:ObjectRemoved:*', `${mediaKey}${root}`]),
      ]);
      const readOriginals = (roleId: string) =>
        (
          (config.resources.Resources[roleId]?.Properties.Policies ?? []) as {
            PolicyDocument: { Statement: (Statement & { Sid: string })[] };
          }[]
        )[0]?.PolicyDocument.Statement.find((st) => st.Sid === 'ReadOriginals')?.Resource;
      for (const role of ['ImageVariantsRole', 'ImageServeRole']) {
        expect(JSON.stringify(readOriginals(role)), role).toBe(originalsArnsJson(bucketName, mediaKey));
        expect(listedPrefixesOf(config.resources.Resources, role), role).toEqual(
          listedPrefixesFor(mediaKey, mediaKey.replace(/media\/$/, 'derived/')),
        );
      }

      const { settings } = loadImageVariantsConfig(env);
      expect(settings.layout.derivedPrefix.startsWith(mediaKey.replace(/media\/$/, ''))).toBe(true);
      // The image CDN reads a variant at its S3 origin's OriginPath + the path the viewer-request
      // function rewrites to (imageServe's edge path): that must be the variant's key, under the prefix.
      const cdn = config.resources.Resources.ImageCdn?.Properties.DistributionConfig as
        | { Origins: { Id: string; OriginPath?: string }[] }
        | undefined;
      const originPath = cdn?.Origins.find((o) => o.Id === 'derived')?.OriginPath ?? '';
      expect(`${originPath}/${derivedUrlPrefix(settings.layout)}m/b/mb01.jpg/w640.webp`.slice(1)).toBe(
        `${settings.layout.derivedPrefix}m/b/mb01.jpg/w640.webp`,
      );
      expect(classifyKey(`${mediaKey}catalog/product/m/b/mb01.jpg`, settings.layout)).toEqual({
        kind: 'original',
        relative: 'catalog/product/m/b/mb01.jpg',
      });
      expect(
        classifyKey(
          `${mediaKey}catalog/product/cache/0123456789abcdef0123456789abcdef/m/b/mb01.jpg`,
          settings.layout,
        ).kind,
      ).toBe('magento-cache');
      expect(classifyKey(`${mediaKey}tmp/catalog/product/m/b/mb01.jpg`, settings.layout).kind).toBe(
        'outside',
      );
    },
    150_000,
  );
});

describe('sls package: secrets at run time and the shop theme (signing, crypt key and view.xml configured)', () => {
  // Values a careless change could route into the template: the old keys param and variable, set here on
  // purpose, must reach nothing the stack ships (template, function environment, packages).
  const leakedKey = 'leak-0123456789abcdef0123456789abcdef-keys';
  const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:m2/citest/image-signing-AbCdEf';
  const kmsKey = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const themeFile = 'test/fixtures/images/themes/Acme/child/etc/view.xml';
  let configured: Template;
  let configuredDir: string;

  beforeAll(async () => {
    const file = await packageService(
      [
        `--param=imageSigningSecret=${secretArn}`,
        `--param=imageSigningSecretKmsKey=${kmsKey}`,
        `--param=imageSigningKeys=${leakedKey}`,
        '--param=magentoHashAlgorithm=hmac-md5',
        '--param=magentoCryptKeyParameter=/m2/citest/crypt-key',
        `--param=magentoViewXml=${themeFile}`,
      ],
      { IMAGE_SIGNING_KEYS: leakedKey },
    );
    configuredDir = dirname(file);
    configured = JSON.parse(readFileSync(file, 'utf8')) as Template;
  }, 480_000);

  it('is cfn-lint clean', async () => {
    const code = await cfnLintCode(join(configuredDir, 'cloudformation-template-update-stack.json'));
    expect(code & (2 | 4)).toBe(0);
  });

  it('puts no key value in the template, any function environment or any package', async () => {
    expect(JSON.stringify(configured)).not.toContain(leakedKey);
    for (const key of functionKeys) {
      const env = functionEnv(configured.Resources, `${key[0]?.toUpperCase()}${key.slice(1)}LambdaFunction`);
      expect(
        Object.keys(env).filter((name) => /SIGNING_KEYS$|SECRET_VALUE/.test(name)),
        key,
      ).toEqual([]);
      const { stdout } = await run('unzip', ['-p', join(configuredDir, `${key}.zip`)], {
        maxBuffer: 512 * 1024 * 1024,
        encoding: 'latin1',
      });
      expect(stdout.includes(leakedKey), key).toBe(false);
    }
    expect(functionEnv(configured.Resources, 'ImageServeLambdaFunction')).toMatchObject({
      IMAGE_SIGNING_SECRET: secretArn,
      IMAGE_SIGNING_KEYS_TTL_SECONDS: '300',
      MAGENTO_CRYPT_KEY_PARAMETER: '/m2/citest/crypt-key',
    });
  });

  it('lets only imageServe read exactly that secret, and decrypt with its key only via Secrets Manager', () => {
    expect(configured.Parameters?.ImageSigningSecret?.Default).toBe(secretArn);
    const policies = Object.entries(configured.Resources).filter(
      // Other roles may read their own secrets (rollout's token key); none but imageServe's gets this one.
      ([, r]) =>
        ['AWS::IAM::Policy', 'AWS::IAM::Role'].includes(r.Type) &&
        /"ImageSigningSecret"|image-signing/.test(JSON.stringify(r.Properties)),
    );
    expect(policies.map(([id]) => id)).toEqual(['ImageServeSigningSecretPolicy']);
    const policy = configured.Resources.ImageServeSigningSecretPolicy;
    expect(policy?.Condition).toBe('SignsImageUrls');
    expect(policy?.Properties.Roles).toEqual([{ Ref: 'ImageServeRole' }]);
    const document = policy?.Properties.PolicyDocument as { Statement: unknown[] } | undefined;
    const [read, decrypt] = document?.Statement ?? [];
    expect(read).toEqual({
      Sid: 'ReadSigningKeys',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: { Ref: 'ImageSigningSecret' },
    });
    expect(decrypt).toEqual({
      'Fn::If': [
        'DecryptsImageSigningSecret',
        {
          Sid: 'DecryptSigningKeys',
          Effect: 'Allow',
          Action: ['kms:Decrypt'],
          Resource: { Ref: 'ImageSigningSecretKmsKey' },
          Condition: {
            StringEquals: { 'kms:ViaService': { 'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com` } },
          },
        },
        { Ref: 'AWS::NoValue' },
      ],
    });
    // Signing off by default: the same policy exists only under its condition.
    expect(template.Parameters?.ImageSigningSecret?.Default).toBe('');
    expect(template.Resources.ImageServeSigningSecretPolicy?.Condition).toBe('SignsImageUrls');
    expect(functionEnv(template.Resources, 'ImageServeLambdaFunction').IMAGE_SIGNING_SECRET).toBe('');
  });

  it("packs the shop's view.xml with both image functions only, at the path MAGENTO_VIEW_XML names", async () => {
    for (const key of functionKeys) {
      const { stdout } = await run('unzip', ['-Z1', join(configuredDir, `${key}.zip`)], {
        maxBuffer: 16 * 1024 * 1024,
      });
      const image = key === 'imageServe' || key === 'imageVariants';
      expect(stdout.split('\n').includes(themeFile), key).toBe(image);
    }
    for (const id of ['ImageServeLambdaFunction', 'ImageVariantsLambdaFunction']) {
      expect(functionEnv(configured.Resources, id).MAGENTO_VIEW_XML, id).toBe(themeFile);
    }
    const { stdout } = await run('unzip', ['-p', join(configuredDir, 'imageServe.zip'), themeFile]);
    expect(stdout).toBe(readFileSync(themeFile, 'utf8'));
  });

  it('fails the packaging when a named view.xml is not in the repository', async () => {
    const failure = await packageService([
      '--param=magentoViewXml=app/design/frontend/Acme/gone/etc/view.xml',
    ]).then(
      () => undefined,
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    expect(failure).toMatch(
      /magentoViewXml: 'app\/design\/frontend\/Acme\/gone\/etc\/view\.xml' is not a file/,
    );
  }, 480_000);
});

describe('sls package: security scanners', () => {
  it('has no checkov finding outside security/baseline and no cfn-lint finding six months ahead', async () => {
    const problems = await scanCloudFormation([
      {
        label: 'packaged template (default params)',
        file: join(dir, 'cloudformation-template-update-stack.json'),
      },
      { label: 'packaged template (all options)', file: await packageAllOptions() },
    ]);
    expect(problems).toEqual([]);
  }, 600_000);
});

import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';

// The middleware aws-xray-sdk-core's captureAWSv3Client adds (its XRAY_PLUGIN_NAME): what turns each
// SDK call into an X-Ray subsegment.
const xray = 'XRaySDKInstrumentation';
const stackOf = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);

/** telemetry.ts and tracer.ts as a fresh cold start under the current environment. */
async function coldStart() {
  vi.resetModules();
  const { lambdaTelemetry } = await import('../../../lib/observability/telemetry.ts');
  const { traced } = await import('../../../lib/observability/tracer.ts');
  return { tracer: lambdaTelemetry.tracer, traced };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('traced', () => {
  it('adds the X-Ray middleware to a client in Lambda, once however often it is captured', async () => {
    // Prepare: what Lambda sets for the nodejs24.x runtime
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs24.x');
    const { tracer, traced } = await coldStart();
    const client = new S3Client({ region: 'us-east-1' });
    expect(stackOf(client)).not.toContain(xray);

    // Act
    const captured = traced(traced(client));

    // Assess
    expect(tracer.isTracingEnabled()).toBe(true);
    expect(captured).toBe(client);
    expect(stackOf(client).filter((name) => name === xray)).toHaveLength(1);
  });

  it.each([
    ['outside Lambda (tests, sls invoke local, the demo)', {}],
    [
      'with POWERTOOLS_TRACE_ENABLED=false',
      { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'false' },
    ],
  ])('leaves the client untouched %s', async (_when, env: Record<string, string>) => {
    // Prepare
    vi.stubEnv('AWS_EXECUTION_ENV', '');
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const { tracer, traced } = await coldStart();
    const client = new SQSClient({ region: 'us-east-1' });
    const before = client.middlewareStack.identify();

    // Act
    traced(client);

    // Assess
    expect(tracer.isTracingEnabled()).toBe(false);
    expect(client.middlewareStack.identify()).toEqual(before);
  });
});

describe('the functions under tracing', () => {
  it.each([
    ['imageServe', 's3Client'],
    ['imageVariants', 's3Client'],
    ['consumerScaler', 'sqsClient'],
    ['consumerScaler', 'cloudWatchClient'],
    ['rollout', 'codePipelineClient'],
  ] as const)(
    '%s captures the %s it uses at cold start',
    async (functionKey, factory) => {
      // Prepare: the function's own environment, as serverless.yml sets it, in Lambda
      vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs24.x');
      vi.stubEnv('AWS_REGION', 'us-east-1');
      vi.stubEnv('MEDIA_BUCKET', 'shop-media');
      vi.stubEnv('EKS_CLUSTER_NAME', 'm2');
      vi.stubEnv(
        'ROLLOUT_TOKEN_SECRET_ARN',
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:m2/rollout-token-AbCdEf',
      );
      vi.resetModules();

      // Act
      await import(`../../../functions/${functionKey}.ts`);

      // Assess: the module singleton the function handed to lib/ now records its calls
      const clients = await import('../../../lib/aws/clients.ts');
      expect(stackOf(clients[factory]())).toContain(xray);
      // A cold start imports the Kubernetes and AWS clients: seconds on a loaded 2-core machine.
    },
    60_000,
  );
});

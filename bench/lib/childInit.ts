/**
 * One cold start of a bundled function, run by bench/bundles.ts in a fresh Node process (compiled to
 * CommonJS first, so no TypeScript loader sits in the measured process). Like the Lambda runtime it
 * `require`s the bundle and takes `handler`; then it invokes the handler once with an event no handler
 * accepts and reads the error's stack, as the runtime does when it reports a failed invocation — with
 * --enable-source-maps that first stack is where Node decodes the bundle's source map.
 *
 * Usage: node childInit.cjs <bundle.js>; the result goes to file descriptor 3 as one JSON object.
 */
import { writeSync } from 'node:fs';

/** What one cold start measured; times in milliseconds, memory in bytes. */
export interface InitSample {
  /** `require` of the bundle until `handler` is in hand: wall time, and CPU time of all the process's threads. */
  readonly initMs: number;
  readonly initCpuMs: number;
  readonly rssBeforeInit: number;
  readonly rssAfterInit: number;
  readonly heapUsedAfterInit: number;
  /** First failed invocation, from the call until its error's stack is a string. */
  readonly firstErrorMs: number;
  readonly firstErrorCpuMs: number;
  /** The same for a second failed invocation (the source map, if any, is decoded by then). */
  readonly secondErrorMs: number;
  readonly rssAfterFirstError: number;
  readonly heapUsedAfterFirstError: number;
  /** The first stack names TypeScript sources (the source map was applied). */
  readonly mappedStack: boolean;
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** User + system CPU time since `start` (a `process.cpuUsage()`), in milliseconds. */
const cpuMs = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/** A Lambda context with the fields Powertools and Middy read. */
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
  awsRequestId: '00000000-0000-4000-8000-000000000000',
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
};

/** Invokes the handler with an event it refuses; the time until the error's stack has been formatted. */
async function failedInvocation(handler: Handler): Promise<{ ms: number; cpuMs: number; stack: string }> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const error = await handler({ bench: 'not an event of any function' }, context).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof Error)) throw new Error('the handler accepted an event it should refuse');
  const stack = String(error.stack);
  return { ms: elapsedMs(start), cpuMs: cpuMs(cpu), stack };
}

async function main(bundlePath: string): Promise<InitSample> {
  const rssBeforeInit = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  // This file runs as CommonJS (see above): `require` is the loader the Lambda runtime uses for a .js handler.
  const handler = (require(bundlePath) as { handler?: unknown }).handler;
  if (typeof handler !== 'function') throw new Error(`${bundlePath} exports no handler function`);
  const initMs = elapsedMs(start);
  const initCpuMs = cpuMs(cpu);
  const afterInit = process.memoryUsage();
  const first = await failedInvocation(handler as Handler);
  const afterFirstError = process.memoryUsage();
  const second = await failedInvocation(handler as Handler);
  return {
    initMs,
    initCpuMs,
    rssBeforeInit,
    rssAfterInit: afterInit.rss,
    heapUsedAfterInit: afterInit.heapUsed,
    firstErrorMs: first.ms,
    firstErrorCpuMs: first.cpuMs,
    secondErrorMs: second.ms,
    rssAfterFirstError: afterFirstError.rss,
    heapUsedAfterFirstError: afterFirstError.heapUsed,
    mappedStack: /\.ts:\d+:\d+/.test(first.stack),
  };
}

const bundlePath = process.argv[2];
if (bundlePath === undefined) throw new Error('usage: node childInit.cjs <bundle.js>');
main(bundlePath).then(
  (sample) => {
    writeSync(3, JSON.stringify(sample));
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

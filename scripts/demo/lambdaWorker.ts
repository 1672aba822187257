/**
 * One warm "Lambda container" for the demo: loads functions/<name>.ts once (so its cold-start code —
 * config parsing, SDK clients, the EKS connection — runs once, as in Lambda) and invokes the handler
 * for every event the parent sends over IPC. Started by lambdaHost.ts with the function's own
 * environment (its role ARN for EKS, its configuration variables); never run by hand.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { messageOf } from '../../lib/common/messageOf.ts';
import type { WorkerReply, WorkerRequest } from './lambdaHost.ts';

const name = process.argv[2];
if (name === undefined || !/^[A-Za-z]+$/.test(name))
  throw new Error(`lambdaWorker: bad function name ${name}`);

type Handler = (event: unknown, context: Context) => Promise<unknown>;
const loaded = import(
  pathToFileURL(join(import.meta.dirname, '..', '..', 'functions', `${name}.ts`)).href
).then((m: { handler: Handler }) => m.handler);

function contextFor(requestId: string, deadline: number, memoryMb: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name as string,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:123456789012:function:${name}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `demo/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

process.on('message', (request: WorkerRequest) => {
  const started = Date.now();
  const requestId = randomUUID();
  const reply = (r: Omit<WorkerReply, 'id' | 'durationMs' | 'requestId'>) =>
    process.send?.({
      id: request.id,
      durationMs: Date.now() - started,
      requestId,
      ...r,
    } satisfies WorkerReply);
  loaded
    .then((handler) =>
      handler(request.event, contextFor(requestId, started + request.timeoutMs, request.memoryMb)),
    )
    .then(
      (result) => reply({ result }),
      (error: unknown) =>
        reply({
          error: {
            name: error instanceof Error ? error.name : 'Error',
            message: messageOf(error),
          },
        }),
    );
});
process.send?.({ id: 0, durationMs: 0, result: 'ready' } satisfies WorkerReply);

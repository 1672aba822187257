import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';

/**
 * The embedded environment's stand-in for the three CodePipeline job calls moto lacks:
 * GetJobDetails, PutJobSuccessResult and PutJobFailureResult (AWS JSON 1.1, `X-Amz-Target:
 * CodePipeline_20150709.<Operation>`). It records what was reported, per job id, in memory;
 * `GET /_results` (optionally `?jobId=`) reads them back for tests. Like CodePipeline, a second
 * report for the same job id is refused with InvalidJobStateException.
 *
 * Jobs: `POST /_jobs` with `{ jobId, pipelineName, userParameters, continuationToken? }` plays
 * CodePipeline creating a Lambda-invoke job (a first invocation, or a continuation carrying the
 * token); GetJobDetails answers for created jobs only (JobNotFoundException otherwise), as CodePipeline
 * does. `POST /_jobs/abandon?jobId=` plays "Stop and abandon": every later result for the job is
 * refused with InvalidJobStateException. Started as a daemon by scripts/local/codepipeline.ts.
 */
const settings = z.object({ M2_CODEPIPELINE_PORT: z.coerce.number().int().positive() }).parse(process.env);

const targetPrefix = 'CodePipeline_20150709.';

/** One recorded report. */
interface RecordedResult {
  readonly jobId: string;
  readonly operation: 'PutJobSuccessResult' | 'PutJobFailureResult';
  readonly body: Record<string, unknown>;
  readonly receivedAt: string;
}

const results = new Map<string, RecordedResult>();

/** A job as a Lambda invoke action's job is created: what GetJobDetails returns for it. */
interface CreatedJob {
  readonly jobId: string;
  readonly pipelineName: string;
  readonly userParameters: string;
  readonly continuationToken?: string;
  abandoned: boolean;
}

const jobs = new Map<string, CreatedJob>();

const createdJob = z.object({
  jobId: z.string().min(1).max(512),
  pipelineName: z.string().min(1).max(100),
  userParameters: z.string().max(1000),
  continuationToken: z.string().max(2048).optional(),
});

/** GetJobDetails' answer (the shape of the real one; credentials only as placeholders). */
const jobDetails = (job: CreatedJob) => ({
  jobDetails: {
    id: job.jobId,
    accountId: '123456789012',
    data: {
      actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' },
      actionConfiguration: { configuration: { UserParameters: job.userParameters } },
      pipelineContext: {
        pipelineName: job.pipelineName,
        stage: { name: 'Deploy' },
        action: { name: 'Rollout', actionExecutionId: job.jobId },
      },
      inputArtifacts: [],
      outputArtifacts: [],
      ...(job.continuationToken === undefined ? {} : { continuationToken: job.continuationToken }),
    },
  },
});

const jobBody = z.object({ jobId: z.string().min(1).max(512) }).passthrough();

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

const awsError = (res: ServerResponse, status: number, type: string, message: string): void =>
  send(res, status, { __type: type, message });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Answered as a SerializationException by the caller.
    return undefined;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/_results') {
    const jobId = url.searchParams.get('jobId');
    send(res, 200, jobId === null ? [...results.values()] : [results.get(jobId)].filter(Boolean));
    return;
  }
  if (req.method === 'DELETE' && url.pathname === '/_results') {
    results.clear();
    send(res, 200, {});
    return;
  }
  if (req.method === 'POST' && url.pathname.startsWith('/_jobs')) {
    await handleJobs(req, res, url);
    return;
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.startsWith(targetPrefix) ? target.slice(targetPrefix.length) : '';
  if (req.method === 'POST' && operation === 'GetJobDetails') {
    const parsed = jobBody.safeParse(parseJson(await readBody(req)));
    const job = parsed.success ? jobs.get(parsed.data.jobId) : undefined;
    if (job === undefined)
      awsError(
        res,
        400,
        'JobNotFoundException',
        'The job was specified in an invalid format or cannot be found.',
      );
    else send(res, 200, jobDetails(job));
    return;
  }
  if (req.method !== 'POST' || (operation !== 'PutJobSuccessResult' && operation !== 'PutJobFailureResult')) {
    awsError(res, 400, 'UnknownOperationException', `not implemented by the stand-in: ${target}`);
    return;
  }
  const parsed = jobBody.safeParse(parseJson(await readBody(req)));
  if (!parsed.success) {
    awsError(res, 400, 'ValidationException', parsed.error.message);
    return;
  }
  const { jobId } = parsed.data;
  if (jobs.get(jobId)?.abandoned === true) {
    awsError(res, 400, 'InvalidJobStateException', `job ${jobId} is no longer in progress`);
    return;
  }
  if (results.has(jobId)) {
    awsError(res, 400, 'InvalidJobStateException', `job ${jobId} has already been reported`);
    return;
  }
  const token = parsed.data.continuationToken;
  if (typeof token === 'string' && token.length > 2048) {
    awsError(res, 400, 'ValidationException', 'continuationToken is longer than 2048 characters');
    return;
  }
  results.set(jobId, { jobId, operation, body: parsed.data, receivedAt: new Date().toISOString() });
  console.log(`${operation} ${jobId}`);
  send(res, 200, {});
}

/** `POST /_jobs` creates a job; `POST /_jobs/abandon?jobId=` stops and abandons it. */
async function handleJobs(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (url.pathname === '/_jobs/abandon') {
    const job = jobs.get(url.searchParams.get('jobId') ?? '');
    if (job === undefined) return awsError(res, 400, 'JobNotFoundException', 'no such job');
    job.abandoned = true;
    return send(res, 200, {});
  }
  const parsed = createdJob.safeParse(parseJson(await readBody(req)));
  if (!parsed.success) return awsError(res, 400, 'ValidationException', parsed.error.message);
  jobs.set(parsed.data.jobId, { ...parsed.data, abandoned: false });
  send(res, 200, {});
}

createServer((req, res) => {
  handle(req, res).catch((error: unknown) => awsError(res, 500, 'InternalFailure', String(error)));
}).listen(settings.M2_CODEPIPELINE_PORT, '127.0.0.1', () => {
  console.log(`CodePipeline stand-in on 127.0.0.1:${settings.M2_CODEPIPELINE_PORT}`);
});

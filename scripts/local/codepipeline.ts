import { logFile, runningPid, startDaemon, stopDaemon, tsxDaemon, waitFor } from './proc.ts';

/** Where the CodePipeline stand-in listens; exported into `.local/env` (the SDK reads it per service). */
export const codePipelineEnv = {
  AWS_ENDPOINT_URL_CODEPIPELINE: `http://127.0.0.1:${process.env.M2_CODEPIPELINE_PORT ?? '4567'}`,
} as const;

async function responds(): Promise<boolean> {
  const res = await fetch(`${codePipelineEnv.AWS_ENDPOINT_URL_CODEPIPELINE}/_results`, {
    signal: AbortSignal.timeout(2000),
  });
  return res.ok;
}

/** Starts the stand-in (codepipeline-standin.ts) unless our own instance already runs. */
export async function upCodePipeline(): Promise<void> {
  if (runningPid('codepipeline') === undefined) {
    const [command, args] = tsxDaemon('codepipeline-standin.ts');
    startDaemon('codepipeline', command, args, {
      M2_CODEPIPELINE_PORT: new URL(codePipelineEnv.AWS_ENDPOINT_URL_CODEPIPELINE).port,
    });
  }
  try {
    await waitFor('CodePipeline stand-in', responds, 20_000);
  } catch (error) {
    throw new Error(`the CodePipeline stand-in did not come up; see ${logFile('codepipeline')}`, {
      cause: error,
    });
  }
}

export function downCodePipeline(): Promise<boolean> {
  return stopDaemon('codepipeline');
}

import { codePipelineClient } from '../lib/aws/clients.ts';
import { clusterSettingsFromEnv } from '../lib/k8s/clusterSettings.ts';
import { sharedClusterClient } from '../lib/k8s/connection.ts';
import { lambdaTelemetry } from '../lib/observability/telemetry.ts';
import { traced } from '../lib/observability/tracer.ts';
import { s3ArtifactImageReader } from '../lib/rollout/imageArtifact.ts';
import { CodePipelineJobResults } from '../lib/rollout/jobResults.ts';
import { imageRepositoriesVariable, parseImageRepositories } from '../lib/rollout/releaseInput.ts';
import { createRolloutHandler } from '../lib/rollout/rolloutHandler.ts';
import { defaultRolloutSettings } from '../lib/rollout/run.ts';
import { createSecretsManagerTokenKey, tokenKeySettingsFromEnv } from '../lib/rollout/tokenKey.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const clusterSettings = clusterSettingsFromEnv();
const tokenKeySettings = tokenKeySettingsFromEnv();
const imageRepositories = parseImageRepositories(process.env[imageRepositoriesVariable]);

/** CodePipeline Lambda invoke action → one step of a shop rollout, reported to CodePipeline. */
export const handler = createRolloutHandler({
  // Connected on the first invocation, then reused by warm ones (token cache included).
  cluster: () => sharedClusterClient(clusterSettings),
  results: new CodePipelineJobResults(traced(codePipelineClient())),
  // Read from Secrets Manager on first use and cached: the key is never in the environment.
  tokenKey: createSecretsManagerTokenKey(tokenKeySettings),
  readArtifactImage: s3ArtifactImageReader(),
  telemetry: lambdaTelemetry,
  settings:
    imageRepositories === undefined
      ? defaultRolloutSettings
      : { ...defaultRolloutSettings, imageRepositories },
});

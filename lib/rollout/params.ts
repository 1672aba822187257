import { z } from 'zod';
import { ConfigurationError } from './errors.ts';

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes name (DNS label)');

/** An image reference: repository, then `:tag` and/or `@sha256:digest`. No whitespace. */
const imageReference = z
  .string()
  .min(1)
  .max(512)
  .regex(
    /^[a-z0-9][a-z0-9._/:-]*(@sha256:[a-f0-9]{64})?$/,
    'must be an image reference such as repo/magento:2.4.8',
  );

const schema = z
  .object({
    /** The shop's namespace. */
    namespace: dnsLabel,
    /**
     * The full new image; or `imageTag` to keep the repository the web Deployment runs; or neither, to
     * take it from the input artifact's imageDetail.json.
     */
    image: imageReference.optional(),
    imageTag: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be an image tag')
      .optional(),
    migrate: z.enum(['auto', 'always', 'never']).default('auto'),
    /** Deadline of each wait (migration, web, consumers), in seconds. */
    timeoutSeconds: z.number().int().min(10).max(3600).default(900),
    targets: z
      .object({
        web: z.array(dnsLabel).max(10).default(['m2-http']),
        /** Consumer Deployments; by default every Deployment labelled as a consumer. */
        consumers: z.array(dnsLabel).max(50).optional(),
        cron: z.array(dnsLabel).max(10).default(['m2-cron']),
      })
      .strict()
      .default({ web: ['m2-http'], cron: ['m2-cron'] }),
    /** Name of the migration template (a suspended CronJob). */
    migrationTemplate: dnsLabel.default('m2-migrate'),
    /**
     * After cron is patched, run one `cron:run` with the new image and wait for it
     * (cronVerification.ts); a failed run rolls the release back.
     */
    verifyCron: z.boolean().default(true),
    /** Read the shop and report the plan and the exact patches, writing nothing (dryRun.ts). */
    dryRun: z.boolean().default(false),
  })
  .strict();

/** CodePipeline's limit for one action configuration value, UserParameters included. */
const maxUserParametersLength = 1000;

/** The action's validated UserParameters. */
export type RolloutParams = Readonly<z.output<typeof schema>>;

/**
 * Parses the CodePipeline action's UserParameters (a JSON string). Throws ConfigurationError
 * naming the first offending field.
 *
 * @example parseRolloutParams('{"namespace":"example-shop","imageTag":"2.4.8"}')
 */
export function parseRolloutParams(userParameters: string | undefined): RolloutParams {
  if (userParameters === undefined || userParameters.trim() === '') {
    throw new ConfigurationError(
      'UserParameters',
      'missing; expected JSON such as {"namespace":…,"image":…}',
    );
  }
  if (userParameters.length > maxUserParametersLength) {
    // Only a hand-made event can carry more: CodePipeline refuses the pipeline definition first.
    throw new ConfigurationError(
      'UserParameters',
      `${userParameters.length} characters; at most ${maxUserParametersLength} (CodePipeline's limit for an action configuration value)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(userParameters);
  } catch (error) {
    throw new ConfigurationError('UserParameters', 'not valid JSON', { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue?.code === 'unrecognized_keys' ? `.${issue.keys.join(', ')}` : '';
    const path = issue?.path.map(String).join('.') ?? '';
    const field = `UserParameters${path === '' ? '' : `.${path}`}${keys}`;
    throw new ConfigurationError(field, issue?.message ?? 'invalid', { cause: parsed.error });
  }
  const params = parsed.data;
  if (params.image !== undefined && params.imageTag !== undefined) {
    // Without either, the image comes from the input artifact (imageDetail.json).
    throw new ConfigurationError('UserParameters.image', 'give at most one of "image" and "imageTag"');
  }
  return Object.freeze(params);
}

import { parseArgs } from 'node:util';
import { messageOf } from '../../lib/common/messageOf.ts';
import { defaultEncodeSettings } from '../../lib/images/render.ts';

/** A whole-number option of a bench script, e.g. `--rounds 5`. */
interface WholeNumberOption {
  readonly description: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Environment variable read when the option is not given (kept from before the options existed). */
  readonly env?: string;
}

/** What a `bench:*` script accepts; every option is a whole number. */
export interface BenchCommand<Name extends string> {
  /** The npm script, e.g. `bench:images`. */
  readonly script: string;
  readonly summary: string;
  readonly options: Readonly<Record<Name, WholeNumberOption>>;
}

/** Thrown for a command line a bench cannot run with; the message names the option. */
export class BenchArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchArgsError';
  }
}

/** A bench's command line, parsed: `help`, or the value of every option. */
export type BenchArgs<Name extends string> =
  | { readonly help: true }
  | { readonly help: false; readonly values: Readonly<Record<Name, number>> };

const rounds = (defaultRounds: number): WholeNumberOption => ({
  description: 'repetitions of every measurement',
  default: defaultRounds,
  min: 1,
  max: 100,
  env: 'BENCH_ROUNDS',
});

export const imagesBench: BenchCommand<'rounds' | 'avif-effort'> = {
  script: 'bench:images',
  summary:
    'imageVariants: pipeline vs decode-per-variant vs in-memory lower bound on real photographs (starts the embedded S3, downloads the photographs once)',
  options: {
    rounds: rounds(3),
    'avif-effort': {
      description: 'AVIF encoder effort of the variants',
      default: defaultEncodeSettings.avifEffort,
      min: 0,
      max: 9,
      env: 'BENCH_AVIF_EFFORT',
    },
  },
};

export const serveBench: BenchCommand<'rounds'> = {
  script: 'bench:serve',
  summary:
    "imageServe's latency (miss, hit, raw sharp) over PWA Studio's srcset sizes (starts the embedded S3, downloads the photographs once)",
  options: { rounds: rounds(2) },
};

export const scalerBench: BenchCommand<'seeds'> = {
  script: 'bench:scaler',
  summary: "consumerScaler's policy vs KEDA + HPA vs a static maximum on traces T1-T5, in simulated time",
  options: {
    seeds: { description: 'random seeds per trace and scaler (1 … N)', default: 100, min: 1, max: 1000 },
  },
};

export const rolloutBench: BenchCommand<'rounds'> = {
  script: 'bench:rollout',
  summary:
    'the rollout function vs `kubectl rollout status` (starts the embedded environment: moto and a Kubernetes control plane)',
  options: { rounds: rounds(3) },
};

/** The `--help` text of a bench. */
export function benchUsage<Name extends string>(command: BenchCommand<Name>): string {
  const entries = Object.entries<WholeNumberOption>(command.options);
  const width = Math.max(6, ...entries.map(([name]) => name.length + 2));
  const lines = entries.map(([name, option]) => {
    const fallback = option.env === undefined ? '' : `$${option.env} or `;
    return `  --${`${name} N`.padEnd(width)}  ${option.description}, ${option.min}-${option.max} (default ${fallback}${option.default})`;
  });
  return [
    `usage: npm run ${command.script} [-- options]`,
    command.summary,
    '',
    'options:',
    ...lines,
    `  --${'help'.padEnd(width)}  this text; starts nothing`,
  ].join('\n');
}

/** `source` is what the user wrote it as: `--rounds` or `BENCH_ROUNDS`. */
const wholeNumber = (source: string, option: WholeNumberOption, raw: string): number => {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < option.min || value > option.max)
    throw new BenchArgsError(
      `${source} takes a whole number from ${option.min} to ${option.max}, not "${raw}"`,
    );
  return value;
};

/** The option as given, else its environment variable, else its default. */
function optionValue(
  name: string,
  option: WholeNumberOption,
  given: unknown,
  env: Readonly<Record<string, string | undefined>>,
): number {
  if (typeof given === 'string') return wholeNumber(`--${name}`, option, given);
  const fromEnv = option.env === undefined ? undefined : env[option.env];
  if (option.env !== undefined && fromEnv !== undefined) return wholeNumber(option.env, option, fromEnv);
  return option.default;
}

/**
 * Parses a bench's command line (strict: unknown options and positionals are refused).
 *
 * @example parseBenchArgs(serveBench, ['--rounds', '5']) // { help: false, values: { rounds: 5 } }
 */
export function parseBenchArgs<Name extends string>(
  command: BenchCommand<Name>,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): BenchArgs<Name> {
  const entries = Object.entries<WholeNumberOption>(command.options);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(entries.map(([name]) => [name, { type: 'string' as const }])),
      },
    });
  } catch (error) {
    // node:util names the option in its message ("Unknown option '--x'", "Option '--rounds <value>' argument missing").
    throw new BenchArgsError(messageOf(error));
  }
  if (parsed.values.help === true) return { help: true };
  const values = Object.fromEntries(
    entries.map(([name, option]) => [name, optionValue(name, option, parsed.values[name], env)]),
  ) as Record<Name, number>;
  return { help: false, values };
}

/**
 * For a bench's first line: the parsed options, or — for `--help` or a bad command line — the usage
 * printed and the process ended before anything starts.
 */
export function benchArgsOrExit<Name extends string>(
  command: BenchCommand<Name>,
  argv: readonly string[] = process.argv.slice(2),
): Readonly<Record<Name, number>> {
  try {
    const args = parseBenchArgs(command, argv, process.env);
    if (!args.help) return args.values;
    console.log(benchUsage(command));
    process.exit(0);
  } catch (error) {
    if (!(error instanceof BenchArgsError)) throw error;
    console.error(`${command.script}: ${error.message}\n\n${benchUsage(command)}`);
    process.exit(2);
  }
}

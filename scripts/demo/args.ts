import { parseArgs } from 'node:util';
import { messageOf } from '../../lib/common/messageOf.ts';
import type { DemoLane } from './lane.ts';

/** What `npm run demo -- …` was asked to do. */
export interface DemoArgs {
  /** Leave the embedded environment up afterwards (it is always left up if it ran before the demo). */
  readonly keep: boolean;
  /** Messages put on the consumer queue for the burst. */
  readonly messages: number;
  /** Product photographs uploaded; undefined = every photograph of the set. */
  readonly photos: number | undefined;
  /** Where the report, plots and function logs go. */
  readonly outDir: string;
  readonly help: boolean;
}

export const demoUsage = `usage: npm run demo [-- options]
  --keep            leave the embedded environment running afterwards
  --messages N      messages in the queue burst (default 10000; 500 on real nodes, where the
                    consumer pods themselves drain it at 1.5-2 messages/s each)
  --photos N        product photographs to upload (default: all 17)
  --out DIR         where report.html, plots and function logs go (default out)
  --help            this text`;

/** Thrown for a command line the demo cannot run with; the message says which option. */
export class DemoArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoArgsError';
  }
}

const wholeNumber = (option: string, raw: string, min: number, max: number): number => {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max)
    throw new DemoArgsError(`${option} takes a whole number from ${min} to ${max}, not "${raw}"`);
  return value;
};

const demoOptions = {
  keep: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  messages: { type: 'string' },
  photos: { type: 'string' },
  out: { type: 'string' },
} as const;

/**
 * The burst's default size per lane. Real consumer pods (consumers.yaml's wrapper: batches of 10,
 * 5 s apart) take 1.5–2 messages/s each (measured): 500 messages keep the step within minutes where
 * 10,000 would take an hour at the replicas the scaler chooses.
 */
const defaultMessages: Readonly<Record<DemoLane, number>> = { kwok: 10_000, 'real-nodes': 500 };

/**
 * Parses the demo's command line (`process.argv.slice(2)`) with `node:util` parseArgs, strict:
 * `--opt value` and `--opt=value` both work; unknown options, positionals and missing values are refused.
 *
 * @example parseDemoArgs(['--keep', '--messages', '500']) // { keep: true, messages: 500, … }
 */
export function parseDemoArgs(argv: readonly string[], lane: DemoLane = 'kwok'): DemoArgs {
  let values: ReturnType<typeof parseArgs<{ options: typeof demoOptions }>>['values'];
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: demoOptions,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // node:util's message names the option ("Unknown option '--force'", "Option '--out <value>' argument missing").
    throw new DemoArgsError(`${messageOf(error)}\n${demoUsage}`);
  }
  if (values.out === '') throw new DemoArgsError('--out takes a directory');
  return {
    keep: values.keep === true,
    messages:
      values.messages === undefined
        ? defaultMessages[lane]
        : wholeNumber('--messages', values.messages, 10, 100_000),
    photos: values.photos === undefined ? undefined : wholeNumber('--photos', values.photos, 1, 100),
    outDir: values.out ?? 'out',
    help: values.help === true,
  };
}

/**
 * How long the first-run build of the Kubernetes binaries should take with `cores` CPUs: 526 s
 * measured on 2 cores (scripts/local/README.md); the Go compiler uses every core, so more cores
 * help until linking and module downloads dominate (counted as a floor of a third).
 */
export function buildEstimateSeconds(cores: number): number {
  const measured = 526;
  const serial = measured / 3;
  return Math.round(serial + ((measured - serial) * 2) / Math.max(1, Math.min(cores, 16)));
}

/** "about 4 min left", or "should finish any moment" once past the estimate. */
export function buildRemaining(estimateS: number, elapsedS: number): string {
  const left = estimateS - elapsedS;
  if (left <= 30) return 'should finish any moment';
  return left > 90 ? `about ${Math.round(left / 60)} min left` : `about ${Math.round(left / 10) * 10} s left`;
}

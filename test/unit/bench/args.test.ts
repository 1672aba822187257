import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BenchArgsError,
  type BenchCommand,
  benchUsage,
  imagesBench,
  parseBenchArgs,
  rolloutBench,
  scalerBench,
  serveBench,
} from '../../../bench/lib/args.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const commands: readonly [string, BenchCommand<string>][] = [
  ['images', imagesBench],
  ['serve', serveBench],
  ['scaler', scalerBench],
  ['rollout', rolloutBench],
];

describe('parseBenchArgs', () => {
  it.each([
    [imagesBench, [], {}, { rounds: 3, 'avif-effort': 2 }],
    [imagesBench, ['--rounds', '5', '--avif-effort=4'], {}, { rounds: 5, 'avif-effort': 4 }],
    [imagesBench, [], { BENCH_ROUNDS: '7', BENCH_AVIF_EFFORT: '0' }, { rounds: 7, 'avif-effort': 0 }],
    [serveBench, [], {}, { rounds: 2 }],
    [serveBench, ['--rounds', '1'], { BENCH_ROUNDS: '9' }, { rounds: 1 }],
    [scalerBench, ['--seeds', '2'], {}, { seeds: 2 }],
    [scalerBench, [], { BENCH_ROUNDS: '9' }, { seeds: 100 }],
    [rolloutBench, [], {}, { rounds: 3 }],
  ] as const)('reads %#: %j with %j', (command, argv, env, values) => {
    // Act
    const args = parseBenchArgs(command as BenchCommand<string>, argv, env);

    // Assess
    expect(args).toEqual({ help: false, values });
  });

  it.each([[['--help']], [['-h']], [['--rounds', '2', '--help']]])('answers %j with help', (argv) => {
    // Act / Assess
    expect(parseBenchArgs(rolloutBench, argv)).toEqual({ help: true });
  });

  it.each([
    [rolloutBench, ['--round', '3'], {}, /Unknown option '--round'/],
    [rolloutBench, ['3'], {}, /Unexpected argument '3'/],
    [rolloutBench, ['--rounds'], {}, /'--rounds <value>' argument missing/],
    [rolloutBench, ['--rounds', 'many'], {}, /--rounds takes a whole number from 1 to 100, not "many"/],
    [rolloutBench, ['--rounds=0'], {}, /--rounds takes a whole number from 1/],
    [rolloutBench, ['--rounds=2.5'], {}, /--rounds takes a whole number/],
    [rolloutBench, ['--rounds='], {}, /--rounds takes a whole number/],
    [
      rolloutBench,
      [],
      { BENCH_ROUNDS: 'lots' },
      /BENCH_ROUNDS takes a whole number from 1 to 100, not "lots"/,
    ],
    [imagesBench, ['--avif-effort', '10'], {}, /--avif-effort takes a whole number from 0 to 9/],
    [scalerBench, ['--rounds', '3'], {}, /Unknown option '--rounds'/],
  ] as const)('refuses %#: %j with %j', (command, argv, env, message) => {
    // Act
    const parse = () => parseBenchArgs(command as BenchCommand<string>, argv, env);

    // Assess
    expect(parse).toThrow(BenchArgsError);
    expect(parse).toThrow(message);
  });
});

describe('benchUsage', () => {
  it.each(commands)('lists every option of bench:%s and --help', (_, command) => {
    // Act
    const usage = benchUsage(command);

    // Assess
    expect(usage).toMatch(new RegExp(`^usage: npm run ${command.script} `));
    for (const name of [...Object.keys(command.options), 'help']) expect(usage).toContain(`--${name}`);
  });
});

// Each script is spawned as `npm run bench:<x>` runs it: --help must answer before the script starts
// the embedded environment, builds or downloads anything (all of which would log to stderr and take minutes).
describe('bench scripts', () => {
  it.concurrent.each(commands)(
    'bench/%s.ts --help prints its usage and starts nothing',
    async (name, command) => {
      // Act
      const { stdout, stderr } = await run(
        process.execPath,
        ['--import', 'tsx', join('bench', `${name}.ts`), '--help'],
        {
          cwd: root,
          env: { ...process.env, NODE_NO_WARNINGS: '1' },
          timeout: 60_000,
        },
      );

      // Assess
      expect(stdout).toBe(`${benchUsage(command)}\n`);
      expect(stderr).toBe('');
    },
    90_000,
  );

  it('bench/scaler.ts refuses an unknown option with exit code 2 and its usage', async () => {
    // Act
    const result = run(process.execPath, ['--import', 'tsx', join('bench', 'scaler.ts'), '--seed', '3'], {
      cwd: root,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      timeout: 60_000,
    });

    // Assess
    await expect(result).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`bench:scaler: Unknown option '--seed'`),
    });
  }, 90_000);
});

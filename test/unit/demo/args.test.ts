import { describe, expect, it } from 'vitest';
import {
  buildEstimateSeconds,
  buildRemaining,
  DemoArgsError,
  parseDemoArgs,
} from '../../../scripts/demo/args.ts';

describe('parseDemoArgs', () => {
  it('defaults to 10,000 messages, every photograph, out/, stopping the environment', () => {
    // Act
    const args = parseDemoArgs([]);

    // Assess
    expect(args).toEqual({ keep: false, messages: 10_000, photos: undefined, outDir: 'out', help: false });
  });

  it('defaults to a burst of 500 on real nodes, where consumer pods drain it themselves', () => {
    // Act
    const byDefault = parseDemoArgs([], 'real-nodes');
    const asked = parseDemoArgs(['--messages', '300'], 'real-nodes');

    // Assess
    expect([byDefault.messages, asked.messages]).toEqual([500, 300]);
  });

  it.each([
    [['--keep'], { keep: true }],
    [['--messages', '500'], { messages: 500 }],
    [['--messages=2500'], { messages: 2500 }],
    [['--photos', '3'], { photos: 3 }],
    [['--out', '/tmp/demo-out'], { outDir: '/tmp/demo-out' }],
    [['--help'], { help: true }],
    [['-h'], { help: true }],
    [['--keep', '--photos=5', '--messages', '10'], { keep: true, photos: 5, messages: 10 }],
  ])('reads %j', (argv, expected) => {
    // Act
    const args = parseDemoArgs(argv);

    // Assess
    expect(args).toMatchObject(expected);
  });

  it.each([
    [['--messages'], /'--messages <value>' argument missing/],
    [['--messages', 'many'], /--messages takes a whole number/],
    [['--messages', '2.5'], /--messages takes a whole number/],
    [['--messages', '5'], /from 10 to 100000/],
    [['--photos', '0'], /--photos takes a whole number from 1/],
    [['--photos='], /--photos takes a whole number/],
    [['--out'], /'--out <value>' argument missing/],
    [['--out='], /--out takes a directory/],
    [['--out', '--keep'], /'--out' argument is ambiguous/],
    [['--force'], /Unknown option '--force'(.|\n)*usage: npm run demo/],
    [['keep'], /Unexpected argument 'keep'/],
    [['--keep=yes'], /'--keep' does not take an argument/],
  ])('refuses %j', (argv, message) => {
    // Act
    const parse = () => parseDemoArgs(argv);

    // Assess
    expect(parse).toThrow(DemoArgsError);
    expect(parse).toThrow(message);
  });
});

describe('buildEstimateSeconds and buildRemaining', () => {
  it('estimates the measured 526 s on 2 cores, less with more cores, never below the serial part', () => {
    // Act / Assess
    expect(buildEstimateSeconds(2)).toBe(526);
    expect(buildEstimateSeconds(1)).toBeGreaterThan(526);
    expect(buildEstimateSeconds(8)).toBeLessThan(buildEstimateSeconds(4));
    expect(buildEstimateSeconds(64)).toBe(buildEstimateSeconds(16));
    expect(buildEstimateSeconds(16)).toBeGreaterThan(526 / 3);
  });

  it.each([
    [526, 0, 'about 9 min left'],
    [526, 436, 'about 90 s left'],
    [526, 470, 'about 60 s left'],
    [526, 500, 'should finish any moment'],
    [526, 900, 'should finish any moment'],
  ])('says what is left of %i s after %i s: %s', (estimate, elapsedS, text) => {
    // Act / Assess
    expect(buildRemaining(estimate, elapsedS)).toBe(text);
  });
});

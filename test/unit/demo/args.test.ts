import { describe, expect, it } from 'vitest';
import { DemoArgsError, parseDemoArgs } from '../../../scripts/demo/args.ts';

describe('parseDemoArgs', () => {
  it('defaults to 10,000 messages, every photograph, out/, stopping the environment', () => {
    // Act
    const args = parseDemoArgs([]);

    // Assess
    expect(args).toEqual({ keep: false, messages: 10_000, photos: undefined, outDir: 'out', help: false });
  });

  it.each([
    [['--keep'], { keep: true }],
    [['--messages', '500'], { messages: 500 }],
    [['--messages=2500'], { messages: 2500 }],
    [['--photos', '3'], { photos: 3 }],
    [['--out', '/tmp/demo-out'], { outDir: '/tmp/demo-out' }],
    [['--help'], { help: true }],
    [['--keep', '--photos=5', '--messages', '10'], { keep: true, photos: 5, messages: 10 }],
  ])('reads %j', (argv, expected) => {
    // Act
    const args = parseDemoArgs(argv);

    // Assess
    expect(args).toMatchObject(expected);
  });

  it.each([
    [['--messages'], /--messages takes a whole number/],
    [['--messages', 'many'], /--messages takes a whole number/],
    [['--messages', '2.5'], /--messages takes a whole number/],
    [['--messages', '5'], /from 10 to 100000/],
    [['--photos', '0'], /--photos takes a whole number from 1/],
    [['--photos='], /--photos takes a whole number/],
    [['--out'], /--out takes a directory/],
    [['--out', '--keep'], /--out takes a directory/],
    [['--force'], /unknown option --force/],
    [['keep'], /unknown option keep/],
  ])('refuses %j', (argv, message) => {
    // Act
    const parse = () => parseDemoArgs(argv);

    // Assess
    expect(parse).toThrow(DemoArgsError);
    expect(parse).toThrow(message);
  });
});

import { describe, expect, it } from 'vitest';
import { UploadQueue } from '../../../lib/images/uploadQueue.ts';

/** A job the test finishes by hand, recording when it started. */
function manualJob(log: string[], name: string) {
  let finish: (error?: Error) => void = () => {};
  const job = () =>
    new Promise<void>((resolve, reject) => {
      log.push(`start ${name}`);
      finish = (error) => (error === undefined ? resolve() : reject(error));
    });
  return { job, finish: (error?: Error) => finish(error) };
}

describe('UploadQueue', () => {
  it('runs at most `limit` jobs at once and starts the next as one finishes', async () => {
    // Prepare
    const log: string[] = [];
    const queue = new UploadQueue(2);
    const jobs = ['a', 'b', 'c'].map((name) => manualJob(log, name));
    // Act
    for (const { job } of jobs) queue.add(job);
    const started = [...log];
    jobs[0]?.finish();
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    // Assess
    expect(started).toEqual(['start a', 'start b']);
    expect(log).toEqual(['start a', 'start b', 'start c']);
    jobs[1]?.finish();
    jobs[2]?.finish();
    await expect(queue.drain()).resolves.toBeUndefined();
  });

  it('rethrows the first failure from drain and starts nothing after it', async () => {
    // Prepare
    const log: string[] = [];
    const queue = new UploadQueue(1);
    const first = manualJob(log, 'a');
    const second = manualJob(log, 'b');
    queue.add(first.job);
    queue.add(second.job);
    // Act
    first.finish(new Error('SlowDown'));
    // Assess
    await expect(queue.drain()).rejects.toThrow('SlowDown');
    expect(log).toEqual(['start a']);
  });

  it('settles: drops pending jobs and waits for running ones', async () => {
    // Prepare
    const log: string[] = [];
    const queue = new UploadQueue(1);
    const running = manualJob(log, 'a');
    queue.add(running.job);
    queue.add(manualJob(log, 'b').job);
    // Act
    const settled = queue.settle();
    running.finish();
    await settled;
    // Assess
    expect(log).toEqual(['start a']);
  });
});

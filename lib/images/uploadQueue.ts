/** Runs async jobs with bounded concurrency; the first failure is rethrown by {@link drain}. */
export class UploadQueue {
  private readonly running = new Set<Promise<void>>();
  private readonly pending: (() => Promise<void>)[] = [];
  private failure: unknown;

  constructor(private readonly limit: number) {}

  add(job: () => Promise<void>): void {
    this.pending.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.limit && this.pending.length > 0 && this.failure === undefined) {
      const job = this.pending.shift();
      if (job === undefined) break;
      const run: Promise<void> = job()
        .catch((error: unknown) => {
          this.failure ??= error;
        })
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  /** Drops what has not started and waits for what has; failures are left to {@link drain}. */
  async settle(): Promise<void> {
    this.pending.length = 0;
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Waits for every job; throws the first failure (the jobs after it are not started). */
  async drain(): Promise<void> {
    while (this.running.size > 0 || (this.pending.length > 0 && this.failure === undefined)) {
      await Promise.all([...this.running]);
    }
    if (this.failure !== undefined) throw this.failure;
  }
}

/**
 * A clock that only moves when someone sleeps (or a test advances it). Listeners hear every move,
 * so the fake cluster's controllers and kubelet act on the test's time, not the wall clock's.
 */
export class FakeClock {
  #now: number;
  readonly #listeners = new Set<(now: number) => void>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  /** Moves the clock on by `ms` (at least 1) and resolves: nothing waits for real. */
  readonly sleep = async (ms: number): Promise<void> => {
    this.advance(Math.max(1, ms));
  };

  advance(ms: number): void {
    this.#now += ms;
    for (const listener of [...this.#listeners]) listener(this.#now);
  }

  /** Calls `listener` after every move; returns the function that unsubscribes it. */
  onAdvance(listener: (now: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

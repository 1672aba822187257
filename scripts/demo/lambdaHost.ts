import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** serverless.yml function keys the demo runs. */
export type FunctionName = 'imageVariants' | 'imageServe' | 'consumerScaler' | 'rollout';

export interface WorkerRequest {
  readonly id: number;
  readonly event: unknown;
  readonly timeoutMs: number;
  readonly memoryMb: number;
}

export interface WorkerReply {
  readonly id: number;
  readonly durationMs: number;
  /** The context's awsRequestId: the `function_request_id` of the invocation's log lines. */
  readonly requestId?: string;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
}

export interface Invocation<T> {
  /** When the host handed the event to the function (epoch ms). */
  readonly startedAt: number;
  /** From `invoke` to that start: the wait for the previous invocation on this host (one at a time). */
  readonly queuedMs: number;
  readonly durationMs: number;
  /** The invocation's awsRequestId, as `function_request_id` on its log lines. */
  readonly requestId?: string;
  /** The handler's return value; absent when it threw. */
  readonly result?: T;
  /** What the handler threw (Lambda would report it as a function error). */
  readonly error?: { readonly name: string; readonly message: string };
}

export interface LambdaHostOptions {
  /** Variables on top of the parent's environment (`.local/env`): the function's serverless.yml environment, its role. */
  readonly env: Record<string, string>;
  /** The function's configured timeout; the context's remaining time counts down from it. */
  readonly timeoutMs: number;
  readonly memoryMb?: number;
  /** Where the function's stdout/stderr (Powertools JSON lines, EMF) go; one file per function. */
  readonly logDir: string;
  /** Called with every JSON line the function prints (logs and EMF metrics), parsed. */
  readonly onLogLine?: (line: Record<string, unknown>) => void;
}

/**
 * A warm Lambda "container" per function: a child process with the function's own environment, so
 * each function authenticates to EKS with its own role as it would in AWS, and module state (clients,
 * the cached EKS connection) lives as long as the host. Invocations go over IPC, one at a time per
 * host as Lambda runs one event per container.
 */
export class LambdaHost {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(line: Record<string, unknown>) => void>();

  constructor(
    readonly name: FunctionName,
    private readonly options: LambdaHostOptions,
  ) {
    mkdirSync(options.logDir, { recursive: true });
    const log = createWriteStream(join(options.logDir, `${name}.log`), { flags: 'a' });
    this.child = fork(join(import.meta.dirname, 'lambdaWorker.ts'), [name], {
      env: { ...process.env, ...options.env, AWS_LAMBDA_FUNCTION_NAME: name },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream === null) continue;
      stream.pipe(log, { end: false });
      createInterface({ input: stream }).on('line', (line) => {
        if (!line.startsWith('{') || (options.onLogLine === undefined && this.listeners.size === 0)) return;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          // Not JSON after all (a stack trace line); it is in the log file.
          return;
        }
        options.onLogLine?.(parsed);
        for (const listener of this.listeners) listener(parsed);
      });
    }
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code) =>
        reject(new Error(`${name} host exited (${code}) before it was ready`)),
      );
      this.pending.set(0, () => resolve());
    });
    this.child.on('message', (reply: WorkerReply) => {
      const settle = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      settle?.(reply);
    });
    this.child.on('exit', (code, signal) => {
      for (const [id, settle] of this.pending)
        if (id !== 0)
          settle({
            id,
            durationMs: 0,
            error: { name: 'HostExited', message: `${name} exited (${code ?? signal})` },
          });
      this.pending.clear();
    });
  }

  /**
   * Also calls `listener` with every JSON line the function prints (as `onLogLine`), until the
   * returned function is called: a step reads its own invocations' structured logs live.
   */
  listen(listener: (line: Record<string, unknown>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs one event through the handler, after the previous invocation on this host finished. */
  invoke<T = unknown>(event: unknown): Promise<Invocation<T>> {
    const invokedAt = Date.now();
    const run = async (): Promise<Invocation<T>> => {
      await this.ready;
      const id = this.nextId++;
      const startedAt = Date.now();
      const reply = await new Promise<WorkerReply>((resolve) => {
        this.pending.set(id, resolve);
        this.child.send({
          id,
          event,
          timeoutMs: this.options.timeoutMs,
          memoryMb: this.options.memoryMb ?? 1024,
        } satisfies WorkerRequest);
      });
      return {
        startedAt,
        queuedMs: startedAt - invokedAt,
        durationMs: reply.durationMs,
        ...(reply.requestId === undefined ? {} : { requestId: reply.requestId }),
        ...(reply.error === undefined ? { result: reply.result as T } : { error: reply.error }),
      };
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}

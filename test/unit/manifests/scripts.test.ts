import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configMapData, render, shopOverlays } from '../../helpers/manifests.ts';

/**
 * The shell scripts the pods run, taken from the rendered ConfigMap and executed with /bin/sh
 * against a stand-in `php` that records its arguments and behaves as the test says.
 */
const fakePhp = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$2" in
  setup:db:status) exit "\${FAKE_DB_STATUS:-0}" ;;
  app:config:status) exit "\${FAKE_CONFIG_STATUS:-0}" ;;
  setup:upgrade) exit "\${FAKE_UPGRADE_STATUS:-0}" ;;
  queue:consumers:start)
    sleep "\${FAKE_BATCH_SECONDS:-0}"
    echo "batch done" >> "$FAKE_LOG"
    exit "\${FAKE_BATCH_STATUS:-0}" ;;
esac
exit 99
`;

let dir = '';
let running: ChildProcess[] = [];

beforeEach(() => {
  // Prepare: scripts, a fake php on PATH, a Magento root and a state directory of our own.
  dir = mkdtempSync(join(tmpdir(), 'm2-scripts-'));
  const scripts = configMapData(render(shopOverlays[0]).objects, 'm2-scripts');
  for (const [file, text] of Object.entries(scripts)) writeFileSync(join(dir, file), text);
  writeFileSync(join(dir, 'php'), fakePhp);
  chmodSync(join(dir, 'php'), 0o755);
  writeFileSync(join(dir, 'log'), '');
});

afterEach(() => {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running = [];
  rmSync(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
  PATH: `${dir}:${process.env.PATH ?? ''}`,
  FAKE_LOG: join(dir, 'log'),
  MAGENTO_ROOT: dir,
  CONSUMER_STATE_DIR: join(dir, 'state'),
  ...extra,
});

const log = (): string[] => readFileSync(join(dir, 'log'), 'utf8').split('\n').filter(Boolean);

function start(script: string, args: string[], extra: Record<string, string>): ChildProcess {
  const child = spawn('/bin/sh', [join(dir, script), ...args], { env: env(extra), stdio: 'ignore' });
  running.push(child);
  return child;
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('migrate.sh', () => {
  it.each([
    { db: 0, cfg: 0, blueGreen: '1', upgrade: 0, exit: 0, upgrades: false },
    { db: 2, cfg: 0, blueGreen: '1', upgrade: 0, exit: 0, upgrades: true },
    { db: 0, cfg: 2, blueGreen: '1', upgrade: 0, exit: 0, upgrades: true },
    { db: 2, cfg: 2, blueGreen: '1', upgrade: 1, exit: 1, upgrades: true },
    { db: 2, cfg: 0, blueGreen: '0', upgrade: 0, exit: 3, upgrades: false },
    { db: 1, cfg: 0, blueGreen: '1', upgrade: 0, exit: 1, upgrades: false },
    { db: 0, cfg: 1, blueGreen: '1', upgrade: 0, exit: 1, upgrades: false },
  ])(
    'db:status $db, config:status $cfg, blue/green $blueGreen -> exit $exit, upgrade $upgrades',
    async (c) => {
      // Act
      const code = await exited(
        start('migrate.sh', [], {
          FAKE_DB_STATUS: String(c.db),
          FAKE_CONFIG_STATUS: String(c.cfg),
          FAKE_UPGRADE_STATUS: String(c.upgrade),
          MAGENTO_DEPLOYMENT_BLUE_GREEN_ENABLED: c.blueGreen,
        }),
      );

      // Assess
      expect(code).toBe(c.exit);
      const upgrades = log().filter((l) => l.includes('setup:upgrade'));
      expect(upgrades).toEqual(
        c.upgrades ? ['bin/magento setup:upgrade --keep-generated --no-interaction'] : [],
      );
    },
  );
});

describe('consumer-run.sh', () => {
  const busy = () => existsSync(join(dir, 'state', 'busy'));
  const batches = () => log().filter((l) => l === 'batch done').length;

  it('runs the named consumer in batches of --max-messages', async () => {
    // Act
    const child = start('consumer-run.sh', ['product_action_attribute.update', '10'], {
      CONSUMER_IDLE_SECONDS: '0',
    });
    await until(() => batches() >= 2, 'two batches');
    child.kill('SIGTERM');
    await exited(child);

    // Assess
    expect(log()[0]).toBe(
      'bin/magento queue:consumers:start product_action_attribute.update --max-messages=10',
    );
  });

  it('on SIGTERM lets the running batch finish, starts no other, and exits 0', async () => {
    // Prepare
    const child = start('consumer-run.sh', ['async.operations.all', '5'], { FAKE_BATCH_SECONDS: '1' });
    await until(busy, 'the first batch');

    // Act
    child.kill('SIGTERM');
    const code = await exited(child);

    // Assess
    expect(code).toBe(0);
    expect(batches()).toBe(1);
    expect(log().filter((l) => l.includes('queue:consumers:start'))).toHaveLength(1);
  });

  it('preStop drain returns only after the running batch, and the wrapper then stops by itself', async () => {
    // Prepare
    const child = start('consumer-run.sh', ['exportProcessor', '1'], { FAKE_BATCH_SECONDS: '1' });
    await until(busy, 'the first batch');

    // Act
    const drain = start('consumer-drain.sh', [], {});
    const drained = await exited(drain);
    const batchesWhenDrained = batches();
    const code = await exited(child);

    // Assess
    expect(drained).toBe(0);
    expect(batchesWhenDrained).toBe(1);
    expect(code).toBe(0);
    expect(batches()).toBe(1);
  });

  it('exits with the consumer’s status after repeated failures, so Kubernetes shows CrashLoopBackOff', async () => {
    // Act
    const code = await exited(
      start('consumer-run.sh', ['media.storage.catalog.image.resize', '10'], {
        FAKE_BATCH_STATUS: '4',
        CONSUMER_IDLE_SECONDS: '0',
        CONSUMER_MAX_FAILURES: '3',
      }),
    );

    // Assess
    expect(code).toBe(4);
    expect(batches()).toBe(3);
  });
});

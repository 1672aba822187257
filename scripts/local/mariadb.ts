import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { podBridge, podReachableHostPorts } from './nodes.ts';
import { localDir, logFile, runningPid, startDaemon, stopDaemon, waitFor } from './proc.ts';

/**
 * The shops' database (M2_REAL_NODES=1 only): Debian's MariaDB on the pod bridge's gateway address,
 * the one host address pods reach (127.0.0.1 is their own), plus a socket for this machine's admin.
 */
export const mariadbEndpoint = { host: podBridge.gateway, port: podReachableHostPorts.mariadb } as const;

const dir = join(localDir, 'mariadb');
const dataDir = join(dir, 'data');
const socket = join(dir, 'mariadb.sock');

/** Debian's packages holding mariadbd, mariadb-install-db and the mariadb client (no service scripts). */
const debianPackages = ['mariadb-server-core', 'mariadb-client-core'];

const run = (command: string, args: readonly string[], input?: string): string =>
  execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });

function ensureInstalled(): void {
  const missing = ['mariadbd', 'mariadb-install-db', 'mariadb'].filter((tool) => {
    try {
      run('sh', ['-c', `command -v ${tool}`]);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  console.error(`installing ${debianPackages.join(' ')} (Debian) for ${missing.join(', ')}…`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debianPackages], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** SQL as MariaDB's root, over the socket (root@localhost authenticates by unix_socket). */
const adminSql = (sql: string): string => run('mariadb', ['--socket', socket, '--user=root', '--batch'], sql);

/** Credentials of one shop's schema, as its pods' m2-secrets / m2-env carry them. */
export interface ShopDatabase {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  readonly password: string;
}

/**
 * One schema and one user per shop (example-shop → example_shop, as the overlay's MAGENTO_DB_NAME),
 * reachable from the pod network only. `fresh` drops the schema first.
 */
export function ensureShopSchema(shop: string, options: { fresh?: boolean } = {}): ShopDatabase {
  const name = shop.replaceAll(/[^a-zA-Z0-9]/g, '_').slice(0, 64);
  const user = name.slice(0, 80);
  const password = `local-${name}`;
  adminSql(
    [
      options.fresh === true ? `DROP DATABASE IF EXISTS \`${name}\`;` : '',
      `CREATE DATABASE IF NOT EXISTS \`${name}\`;`,
      `CREATE USER IF NOT EXISTS '${user}'@'10.89.%' IDENTIFIED BY '${password}';`,
      `GRANT ALL ON \`${name}\`.* TO '${user}'@'10.89.%';`,
    ].join('\n'),
  );
  return { ...mariadbEndpoint, name, user, password };
}

/**
 * Rows of a query in one shop's schema, as MariaDB's root over the socket (tests read what the
 * shop's pods wrote, e.g. m2_consumed_message), each row its tab-separated columns.
 */
export function shopRows(db: Pick<ShopDatabase, 'name'>, sql: string): string[][] {
  return run('mariadb', ['--socket', socket, '--user=root', '--batch', '--skip-column-names', db.name], sql)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

/** Starts MariaDB (idempotent) with its data under .local/mariadb; needs the pod bridge (upNodes). */
export async function upMariadb(): Promise<Record<string, string>> {
  ensureInstalled();
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dataDir, 'mysql'))) {
    run('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${dataDir}`,
      '--user=root',
      '--skip-test-db',
      '--auth-root-authentication-method=socket',
    ]);
  }
  if (runningPid('mariadb') === undefined) {
    startDaemon('mariadb', 'mariadbd', [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'mariadbd.pid')}`,
      `--bind-address=${mariadbEndpoint.host}`,
      `--port=${mariadbEndpoint.port}`,
      // This machine runs everything as root; mariadbd refuses root unless told so.
      '--user=root',
      '--skip-name-resolve',
      // A test database on a shared disk: small buffers, no fsync per commit, no binlog.
      '--innodb-buffer-pool-size=64M',
      '--innodb-flush-log-at-trx-commit=0',
      '--skip-log-bin',
    ]);
  }
  try {
    await waitFor(
      'mariadb',
      async () => {
        adminSql('SELECT 1;');
        return true;
      },
      60_000,
      250,
    );
  } catch (error) {
    throw new Error(`mariadb did not come up; see ${logFile('mariadb')}`, { cause: error });
  }
  ensureShopSchema('example-shop');
  return {
    M2_MARIADB_HOST: mariadbEndpoint.host,
    M2_MARIADB_PORT: String(mariadbEndpoint.port),
    M2_MARIADB_SOCKET: socket,
  };
}

/** Stops the MariaDB local:up started (by recorded PID; it shuts down cleanly on SIGTERM). */
export async function downMariadb(): Promise<boolean> {
  return stopDaemon('mariadb', 60_000);
}

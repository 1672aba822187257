// Runs in `npm test` after the Node check: installs the storefront's own client code the image tests
// drive (test/clients/pwa-studio: PWA Studio's @magento/peregrine). It lives in its own package because
// peregrine's peer dependencies (React 17, Apollo, react-intl 5 with TypeScript 4) cannot join the root
// tree and makeUrl never loads them. Skipped when the installed tree matches its lockfile.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clients = ['test/clients/pwa-studio'];

for (const client of clients) {
  const dir = join(root, client);
  if (installed(dir)) continue;
  console.log(`installing the test client ${client} (npm ci)`);
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error(
      `npm ci in ${client} failed (exit ${result.status ?? result.signal}); the image client tests need it.`,
    );
    process.exit(1);
  }
}

/** True when node_modules/.package-lock.json (what npm last installed) equals the lockfile's packages. */
function installed(dir) {
  try {
    const wanted = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')).packages;
    const have = JSON.parse(readFileSync(join(dir, 'node_modules/.package-lock.json'), 'utf8')).packages;
    return Object.keys(wanted)
      .filter((path) => path !== '')
      .every((path) => have[path]?.version === wanted[path].version);
  } catch {
    return false;
  }
}

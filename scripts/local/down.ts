import { downAws } from './aws.ts';
import { downCodePipeline } from './codepipeline.ts';
import { downK8s } from './k8s.ts';
import { downKeda } from './keda.ts';
import { downMariadb } from './mariadb.ts';
import { downMotoBridge } from './moto-bridge.ts';
import { downNodes, realNodesRecorded } from './nodes.ts';

/** `npm run local:down`: stops exactly the processes `local:up` recorded. */
export async function down(): Promise<void> {
  // KEDA first: its APIService goes while the apiserver still answers, before its server stops.
  const stoppedKeda = await downKeda();
  if (stoppedKeda.length > 0) console.log(`stopped ${stoppedKeda.join(', ')}`);
  // Real nodes (M2_REAL_NODES=1 local:up) go next, while the apiserver still answers them; they are
  // stopped whenever local:up recorded any, with or without the switch.
  // MariaDB and moto's relay (M2_REAL_NODES=1) bind the pod bridge's address: they go before the bridge does.
  if (await downMariadb()) console.log('mariadb stopped');
  if (await downMotoBridge()) console.log('moto-bridge stopped');
  if (realNodesRecorded()) console.log(`stopped ${(await downNodes()).join(', ') || 'no real-node process'}`);
  const stoppedK8s = await downK8s();
  const stopped = await downAws();
  await downCodePipeline();
  console.log(stopped ? 'moto stopped' : 'moto was not running');
  console.log(stoppedK8s.length > 0 ? `stopped ${stoppedK8s.join(', ')}` : 'kubernetes was not running');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  down().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

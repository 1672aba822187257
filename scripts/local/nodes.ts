import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsEnv } from './aws.ts';
import { releaseImage, releaseRepository, releaseTags } from './images/releases.ts';
import { adminKubeconfig, k8sPorts } from './k8s.ts';
import { type ClusterPki, clientCert, ensurePki, kubeconfigYaml } from './pki.ts';
import { localDir, logFile, runningPid, startDaemon, stopDaemon, waitFor } from './proc.ts';

/** Real nodes (kubelet + containerd) are opt-in: `M2_REAL_NODES=1 npm run local:up`. */
export const realNodesEnabled = (): boolean => process.env.M2_REAL_NODES === '1';

/**
 * The taint every real node registers with, so that workloads written for KWOK's fake lifecycle
 * (the broken-image convention, images no node has) are never scheduled onto a real node by
 * accident. Pods meant for real nodes tolerate it.
 */
export const realNodeTaint = {
  key: 'm2-eks-pipeline.io/real-node',
  value: 'true',
  effect: 'NoSchedule',
} as const;

/** The bridge the environment creates; pod addresses live only on it (see README, Real nodes). */
export const podBridge = { name: 'm2br0', gateway: '10.89.0.1', prefixLength: 16 } as const;

interface RealNode {
  readonly name: string;
  readonly zone: string;
  /** 1-based; picks the node's address (10.89.<index>.1) and its pods' (10.89.<index>.2-254). */
  readonly index: number;
  /** The node's InternalIP: an address on the pod bridge, where its kubelet listens. */
  readonly ip: string;
  readonly dir: string;
}

const nodesDir = join(localDir, 'nodes');

/** The real nodes `local:up` runs: M2_REAL_NODE_COUNT of them (default 3), one zone after another. */
function realNodes(): RealNode[] {
  const count = Number(process.env.M2_REAL_NODE_COUNT ?? 3);
  if (!Number.isInteger(count) || count < 1 || count > 9) {
    throw new Error('M2_REAL_NODE_COUNT must be a whole number from 1 to 9');
  }
  return Array.from({ length: count }, (_, i) => {
    const zone = 'abc'[i % 3] ?? 'a';
    const name = `m2-real-${zone}${i < 3 ? '' : String(Math.floor(i / 3) + 1)}`;
    return {
      name,
      zone: `us-east-1${zone}`,
      index: i + 1,
      ip: `10.89.${i + 1}.1`,
      dir: join(nodesDir, name),
    };
  });
}

const run = (command: string, args: readonly string[]): string =>
  execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const scriptDir = import.meta.dirname;

/** Absolute path of a system command the real nodes need, or an error naming its Debian package. */
function systemTool(name: string, debianPackage: string): string {
  try {
    return run('sh', ['-c', `command -v ${name}`]).trim();
  } catch {
    throw new Error(
      `real nodes need \`${name}\` (Debian: apt-get install ${debianPackage}); or unset M2_REAL_NODES`,
    );
  }
}

/** nftables' CLI (kube-proxy's nftables mode needs it too). */
const nft = (args: readonly string[], input?: string): string =>
  execFileSync(systemTool('nft', 'nftables'), args, {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });

/** The node binaries, built by build-node.sh when missing (cached outside the repo). */
function nodeBinDir(): string {
  const script = join(scriptDir, 'build-node.sh');
  const dir = run('bash', [script, '--print-bin-dir']).trim();
  const bins = [
    'kubelet',
    'kube-proxy',
    'containerd',
    'containerd-shim-runc-v2',
    'ctr',
    'crictl',
    'runc',
    'cni/bridge',
  ];
  if (bins.some((bin) => !existsSync(join(dir, bin)))) {
    console.error(`building the real-node binaries into ${dir} (first run only)…`);
    execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const missing = bins.filter((bin) => !existsSync(join(dir, bin)));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing in ${dir} after build-node.sh`);
  return dir;
}

interface ImageArchives {
  readonly pause: string;
  readonly hello: string;
  /** Every release tag of localhost/m2/magento (build-images.sh builds it under M2_REAL_NODES=1). */
  readonly magento: string;
}

/** The image archives the nodes import: the pod sandbox (pause), hello and the release images. */
function imageArchives(): ImageArchives {
  const out = execFileSync('bash', [join(scriptDir, 'images', 'build-images.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, M2_BUILD_MAGENTO: '1' },
  });
  const lines = out.trim().split('\n');
  const find = (prefix: string): string => {
    const line = lines.find((l) => l.split('/').at(-1)?.startsWith(prefix));
    if (line === undefined) throw new Error(`build-images.sh printed no ${prefix} archive`);
    return line;
  };
  return { pause: find('pause-'), hello: find('hello-'), magento: find('magento-') };
}

/** Image names inside the nodes' containerd; pods use them with imagePullPolicy: Never. */
export const nodeImages = {
  pause: 'localhost/m2/pause:1.37.2',
  hello: 'localhost/m2/hello:1',
} as const;

function ensureBridge(nodes: readonly RealNode[]): void {
  try {
    run('ip', ['link', 'show', podBridge.name]);
  } catch {
    run('ip', ['link', 'add', podBridge.name, 'type', 'bridge']);
  }
  const addresses = run('ip', ['-o', '-4', 'addr', 'show', 'dev', podBridge.name]);
  for (const ip of [podBridge.gateway, ...nodes.map((n) => n.ip)]) {
    if (!addresses.includes(` ${ip}/`)) {
      run('ip', ['addr', 'add', `${ip}/${podBridge.prefixLength}`, 'dev', podBridge.name]);
    }
  }
  run('ip', ['link', 'set', podBridge.name, 'up']);
}

const containerdSocket = (node: Pick<RealNode, 'dir'>): string => join(node.dir, 'containerd.sock');

function writeNodeConfigs(node: RealNode, bin: string, pki: ClusterPki, apiserverUrl: string): void {
  for (const sub of ['containerd', 'net.d', 'kubelet', 'pod-logs'])
    mkdirSync(join(node.dir, sub), { recursive: true });
  const q = JSON.stringify;
  // containerd 2 (config version 4): its own root, state, sockets and CNI configuration per node, so
  // that each kubelet sees only its own pods (a kubelet stops pods on its runtime it does not know).
  // No imports of /etc/containerd, network namespaces under the node's state directory, and NRI off
  // (every containerd would otherwise claim the same /var/run/nri socket).
  const plugin = (id: string): string => `[plugins.'io.containerd.${id}']`;
  writeFileSync(
    join(node.dir, 'containerd', 'config.toml'),
    [
      'version = 4',
      `root = ${q(join(node.dir, 'containerd', 'root'))}`,
      `state = ${q(join(node.dir, 'containerd', 'state'))}`,
      'imports = []',
      'disabled_plugins = ["io.containerd.nri.v1.nri"]',
      '[debug]',
      '  level = "warn"',
      plugin('server.v1.grpc'),
      `  address = ${q(containerdSocket(node))}`,
      plugin('server.v1.ttrpc'),
      `  address = ${q(`${containerdSocket(node)}.ttrpc`)}`,
      plugin('internal.v1.opt'),
      `  path = ${q(join(node.dir, 'containerd', 'opt'))}`,
      plugin('cri.v1.images'),
      '  snapshotter = "overlayfs"',
      `  [plugins.'io.containerd.cri.v1.images'.pinned_images]`,
      `    sandbox = ${q(nodeImages.pause)}`,
      plugin('cri.v1.runtime'),
      '  netns_mounts_under_state_dir = true',
      // This machine's root lacks CAP_SYS_RESOURCE, so no process may lower its oom_score_adj (runc
      // fails with "failed to update /proc/self/oom_score_adj: Permission denied"); containerd then
      // clamps the kubelet's values to its own, as in rootless setups.
      '  restrict_oom_score_adj = true',
      `  [plugins.'io.containerd.cri.v1.runtime'.containerd]`,
      '    default_runtime_name = "runc"',
      `    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]`,
      '      runtime_type = "io.containerd.runc.v2"',
      `      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]`,
      `        BinaryName = ${q(join(bin, 'runc'))}`,
      '        SystemdCgroup = false',
      `  [plugins.'io.containerd.cri.v1.runtime'.cni]`,
      `    bin_dirs = [${q(join(bin, 'cni'))}]`,
      `    conf_dir = ${q(join(node.dir, 'net.d'))}`,
      '    max_conf_num = 1',
      plugin('grpc.v1.cri'),
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '',
    ].join('\n'),
  );
  // One bridge for every node (pods of different nodes reach each other on it, no routing), each
  // node allocating from its own /24. No masquerading and no default route: pods have routes to the
  // pod network and the Service range only, and the host forwards nothing that leaves the bridge
  // (guardPodNetwork), so pod traffic ends on this machine.
  writeFileSync(
    join(node.dir, 'net.d', '10-m2.conflist'),
    `${JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'm2',
        plugins: [
          {
            type: 'bridge',
            bridge: podBridge.name,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              dataDir: join(node.dir, 'cni-ipam'),
              ranges: [
                [
                  {
                    subnet: `10.89.0.0/${podBridge.prefixLength}`,
                    rangeStart: `10.89.${node.index}.2`,
                    rangeEnd: `10.89.${node.index}.254`,
                    gateway: podBridge.gateway,
                  },
                ],
              ],
              // The pod network and the Service range (k8s.ts's --service-cluster-ip-range), through
              // the gateway; no default route.
              routes: [{ dst: `10.89.0.0/${podBridge.prefixLength}` }, { dst: '10.96.0.0/16' }],
            },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    join(node.dir, 'kubelet.kubeconfig'),
    kubeconfigYaml({
      server: apiserverUrl,
      caFile: pki.ca.cert,
      user: `system:node:${node.name}`,
      // The identity RBAC's system:node role is bound to (group system:nodes), see ensureNodeRbac.
      client: clientCert(pki, join(node.dir, 'pki'), 'kubelet-client', {
        cn: `system:node:${node.name}`,
        o: 'system:nodes',
      }),
    }),
    { mode: 0o600 },
  );
  // cgroup v1 here: kubelet >= 1.35 refuses it unless failCgroupV1 is false. Each kubelet gets its
  // own cgroup root so that several share this machine. Eviction and image GC thresholds are
  // relaxed: the disk is the host's, shared with everything else.
  writeFileSync(
    join(node.dir, 'kubelet.yaml'),
    `${JSON.stringify(
      {
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        failCgroupV1: false,
        cgroupDriver: 'cgroupfs',
        cgroupRoot: `/${node.name}`,
        containerRuntimeEndpoint: `unix://${containerdSocket(node)}`,
        address: node.ip,
        healthzBindAddress: node.ip,
        readOnlyPort: 0,
        // Only this machine reaches the bridge; the apiserver calls the kubelet (logs, exec) without a
        // client certificate.
        authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
        authorization: { mode: 'AlwaysAllow' },
        registerWithTaints: [realNodeTaint],
        podLogsDir: join(node.dir, 'pod-logs'),
        volumePluginDir: join(node.dir, 'volume-plugins'),
        failSwapOn: false,
        resolvConf: '/etc/resolv.conf',
        serializeImagePulls: false,
        evictionHard: {
          'memory.available': '100Mi',
          'nodefs.available': '1%',
          'imagefs.available': '1%',
          'nodefs.inodesFree': '1%',
        },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        maxPods: 30,
        shutdownGracePeriod: '0s',
      },
      null,
      2,
    )}\n`,
  );
}

const ctr = (bin: string, node: Pick<RealNode, 'dir'>, args: readonly string[]): string =>
  run(join(bin, 'ctr'), ['--address', containerdSocket(node), '--namespace', 'k8s.io', ...args]);

const crictl = (bin: string, node: Pick<RealNode, 'dir'>, args: readonly string[]): string =>
  run(join(bin, 'crictl'), [
    '--runtime-endpoint',
    `unix://${containerdSocket(node)}`,
    '--timeout',
    '20s',
    ...args,
  ]);

async function startContainerd(node: RealNode, bin: string): Promise<void> {
  const name = `containerd-${node.name}`;
  if (runningPid(name) === undefined) {
    startDaemon(name, join(bin, 'containerd'), ['--config', join(node.dir, 'containerd', 'config.toml')], {
      // The runc shim is found on PATH.
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    });
  }
  await waitForNodeDaemon(name, `${name} to answer`, async () => {
    ctr(bin, node, ['version']);
    return true;
  });
}

async function waitForNodeDaemon(name: string, what: string, check: () => Promise<boolean>): Promise<void> {
  let exited = false;
  try {
    await waitFor(
      what,
      async () => {
        exited = runningPid(name) === undefined;
        return exited || (await check());
      },
      60_000,
      250,
    );
  } catch (error) {
    throw new Error(`${what} failed; see ${logFile(name)}`, { cause: error });
  }
  if (exited) throw new Error(`${name} exited while waiting for ${what}; see ${logFile(name)}`);
}

/**
 * Imports each image archive into the node's containerd unless that very archive (its name carries
 * the key of its inputs) was imported before: a rebuilt image replaces the old one under its name.
 */
function importImages(node: RealNode, bin: string, archives: ImageArchives): void {
  const record = join(node.dir, 'imported-images.json');
  const imported = existsSync(record)
    ? (JSON.parse(readFileSync(record, 'utf8')) as Record<string, string>)
    : {};
  const present = new Set(ctr(bin, node, ['images', 'ls', '-q']).split('\n'));
  for (const key of ['pause', 'hello'] as const) {
    const ref = nodeImages[key];
    if (present.has(ref) && imported[ref] === archives[key]) continue;
    ctr(bin, node, ['images', 'import', '--base-name', ref.slice(0, ref.lastIndexOf(':')), archives[key]]);
    imported[ref] = archives[key];
  }
  // One archive, every release tag: its index names each manifest by tag (umoci's ref.name).
  const release = releaseImage(releaseTags[0]);
  if (!(present.has(release) && imported[release] === archives.magento)) {
    ctr(bin, node, ['images', 'import', '--base-name', releaseRepository, archives.magento]);
    imported[release] = archives.magento;
  }
  writeFileSync(record, `${JSON.stringify(imported, null, 2)}\n`);
}

/**
 * Host settings the real nodes change, recorded before the first change and restored by downNodes:
 * kubelet rewrites the vm/kernel ones when it starts; ip_forward is turned on for Service traffic.
 */
const changedSysctls = [
  'net/ipv4/ip_forward',
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];
const sysctlRecord = join(nodesDir, 'sysctl-before-nodes.json');

function recordSysctls(): void {
  if (existsSync(sysctlRecord)) return;
  const values = Object.fromEntries(
    changedSysctls.map((key) => [key, readFileSync(`/proc/sys/${key}`, 'utf8').trim()]),
  );
  writeFileSync(sysctlRecord, `${JSON.stringify(values, null, 2)}\n`);
}

function restoreSysctls(): void {
  if (!existsSync(sysctlRecord)) return;
  const values = JSON.parse(readFileSync(sysctlRecord, 'utf8')) as Record<string, string>;
  for (const [key, value] of Object.entries(values)) writeFileSync(`/proc/sys/${key}`, value);
  rmSync(sysctlRecord);
}

/** cgroup v1 hierarchies mounted here (one directory each under /sys/fs/cgroup; unified is v2). */
const cgroupHierarchies = (): string[] =>
  readdirSync('/sys/fs/cgroup').filter((h) => h !== 'unified' && !h.includes(','));

/**
 * kubelet requires its cgroup root to exist in every hierarchy. A new v1 cpuset cgroup starts with
 * no CPUs and no memory nodes; it gets its parent's.
 */
function ensureCgroupRoot(root: string): void {
  for (const hierarchy of cgroupHierarchies()) {
    const dir = join('/sys/fs/cgroup', hierarchy, root);
    mkdirSync(dir, { recursive: true });
    if (hierarchy === 'cpuset') {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (readFileSync(join(dir, file), 'utf8').trim() === '') {
          writeFileSync(join(dir, file), readFileSync(join('/sys/fs/cgroup/cpuset', file), 'utf8'));
        }
      }
    }
  }
}

function startKubelet(node: RealNode, bin: string): void {
  const name = `kubelet-${node.name}`;
  if (runningPid(name) !== undefined) return;
  ensureCgroupRoot(`/${node.name}`);
  startDaemon(
    name,
    join(bin, 'kubelet'),
    [
      `--config=${join(node.dir, 'kubelet.yaml')}`,
      `--kubeconfig=${join(node.dir, 'kubelet.kubeconfig')}`,
      `--root-dir=${join(node.dir, 'kubelet')}`,
      `--cert-dir=${join(node.dir, 'pki')}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.ip}`,
      `--node-labels=${[
        `topology.kubernetes.io/zone=${node.zone}`,
        `topology.kubernetes.io/region=${awsEnv.AWS_REGION}`,
        'node.kubernetes.io/instance-type=m2-real',
        'type=real',
      ].join(',')}`,
      '--v=1',
    ],
    { PATH: `${bin}:${process.env.PATH ?? ''}` },
  );
}

function kubectl(args: readonly string[], input?: string): string {
  const k8sBin = run('bash', [join(scriptDir, 'build-k8s.sh'), '--print-bin-dir']).trim();
  return execFileSync(join(k8sBin, 'kubectl'), ['--kubeconfig', adminKubeconfig, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** RBAC's system:node role for the nodes' group (this apiserver runs RBAC only, no Node authorizer). */
function ensureNodeRbac(): void {
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'm2:real-nodes' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
    }),
  );
}

function readyNodes(): Set<string> {
  const list = JSON.parse(kubectl(['get', 'nodes', '-l', 'type=real', '-o', 'json'])) as {
    items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
  };
  return new Set(
    list.items
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata.name),
  );
}

const proxyDir = join(nodesDir, 'kube-proxy');

/**
 * One kube-proxy for the machine (every real node shares this network namespace, and kube-proxy owns
 * one nftables table per family), in nftables mode: its `kube-proxy` tables are its own and nothing
 * else on the host is touched. NodePorts only on the bridge; conntrack sysctls left as they are.
 */
function startKubeProxy(bin: string, pki: ClusterPki, apiserverUrl: string, node: RealNode): void {
  const name = 'kube-proxy';
  if (runningPid(name) !== undefined) return;
  mkdirSync(proxyDir, { recursive: true });
  const kubeconfig = join(proxyDir, 'kube-proxy.kubeconfig');
  writeFileSync(
    kubeconfig,
    kubeconfigYaml({
      server: apiserverUrl,
      caFile: pki.ca.cert,
      user: 'system:kube-proxy',
      // Bound to system:node-proxier by RBAC's default bindings.
      client: clientCert(pki, join(proxyDir, 'pki'), 'kube-proxy', { cn: 'system:kube-proxy' }),
    }),
    { mode: 0o600 },
  );
  const config = join(proxyDir, 'kube-proxy.yaml');
  writeFileSync(
    config,
    `${JSON.stringify(
      {
        apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
        kind: 'KubeProxyConfiguration',
        clientConnection: { kubeconfig },
        mode: 'nftables',
        hostnameOverride: node.name,
        bindAddress: node.ip,
        healthzBindAddress: `${node.ip}:10256`,
        metricsBindAddress: `${node.ip}:10249`,
        clusterCIDR: `10.89.0.0/${podBridge.prefixLength}`,
        nodePortAddresses: [`10.89.0.0/${podBridge.prefixLength}`],
        // kube-proxy masquerades a pod's connection to a Service that lands on that same pod
        // (hairpin) only for endpoints on its own node, and this one kube-proxy serves every real
        // node: without masqueradeAll such connections time out on all but the first node. The cost:
        // pods see Service traffic coming from the bridge address instead of the client pod.
        nftables: { masqueradeAll: true },
        conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
      },
      null,
      2,
    )}\n`,
  );
  startDaemon(name, join(bin, 'kube-proxy'), [`--config=${config}`, '--v=1']);
}

const forwardGuardTable = 'm2-nodes';

/**
 * The host's servers pods may reach, on the bridge's gateway address (the one host address they can
 * route to; 127.0.0.1 is their own): moto through its relay (moto-bridge.ts) and MariaDB. The guard
 * refuses every other connection a pod opens to the host (kubelets, kube-proxy, NodePorts, whatever
 * else this machine runs on 0.0.0.0).
 */
export const podReachableHostPorts = {
  moto: Number(new URL(awsEnv.AWS_ENDPOINT_URL).port),
  mariadb: 3306,
} as const;

/**
 * The environment's own nftables table, written whole on every `local:up` (one transaction):
 * - forward: a pod's connection to a Service IP is DNATed by kube-proxy to another pod and must then
 *   be forwarded by the host, so ip_forward goes on; this chain drops every forwarded packet that
 *   does not both enter and leave the pod bridge, so nothing is routed off this machine (the host
 *   forwarded nothing before either);
 * - input: from the bridge the host accepts replies to its own connections (kubelet probes, tests)
 *   and new connections to podReachableHostPorts on the gateway only; the rest is rejected at once
 *   (TCP reset, else ICMP admin-prohibited), so a pod sees a refusal instead of waiting for a timeout.
 */
function guardPodNetwork(): void {
  const bridge = `"${podBridge.name}"`;
  const ports = Object.values(podReachableHostPorts).join(', ');
  nft(
    ['-f', '-'],
    [
      `table inet ${forwardGuardTable} {}`,
      `flush table inet ${forwardGuardTable}`,
      `table inet ${forwardGuardTable} {`,
      '  chain forward {',
      '    type filter hook forward priority filter - 10; policy drop;',
      `    iifname ${bridge} oifname ${bridge} accept`,
      '  }',
      '  chain input {',
      '    type filter hook input priority filter - 10; policy accept;',
      `    iifname ${bridge} ct state established,related accept`,
      `    iifname ${bridge} ip daddr ${podBridge.gateway} tcp dport { ${ports} } accept`,
      `    iifname ${bridge} meta l4proto tcp reject with tcp reset`,
      `    iifname ${bridge} reject with icmpx admin-prohibited`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
}

/** Removes kube-proxy's own nftables tables (it leaves them behind when stopped). */
function removeKubeProxyTables(): void {
  for (const family of ['ip', 'ip6']) {
    try {
      nft(['delete', 'table', family, 'kube-proxy']);
    } catch {
      // No such table: kube-proxy never ran, or it is already gone.
    }
  }
}

/**
 * Starts containerd and a kubelet per real node (idempotent), registered to the embedded cluster's
 * endpoint and labelled in three zones next to the KWOK nodes. Needs the control plane up.
 */
export async function upNodes(): Promise<Record<string, string>> {
  systemTool('ip', 'iproute2');
  systemTool('nft', 'nftables');
  // The cluster endpoint, as EKS nodes reach their apiservers through the load balancer.
  const apiserverUrl = `https://127.0.0.1:${k8sPorts.apiserver}`;
  const bin = nodeBinDir();
  const archives = imageArchives();
  const pki = ensurePki(join(localDir, 'pki'));
  const nodes = realNodes();
  mkdirSync(nodesDir, { recursive: true });
  recordSysctls();
  ensureBridge(nodes);
  guardPodNetwork();
  ensureNodeRbac();
  await Promise.all(
    nodes.map(async (node) => {
      writeNodeConfigs(node, bin, pki, apiserverUrl);
      await startContainerd(node, bin);
      importImages(node, bin, archives);
      startKubelet(node, bin);
    }),
  );
  const first = nodes[0];
  if (first !== undefined) startKubeProxy(bin, pki, apiserverUrl, first);
  await Promise.all(
    nodes.map((node) =>
      waitForNodeDaemon(`kubelet-${node.name}`, `node ${node.name} Ready`, async () =>
        readyNodes().has(node.name),
      ),
    ),
  );
  return { M2_REAL_NODES: '1', M2_REAL_NODE_NAMES: nodes.map((n) => n.name).join(',') };
}

/** Removes the (empty) cgroups a kubelet created under its cgroup root, deepest first. */
function removeCgroups(root: string): void {
  for (const hierarchy of cgroupHierarchies()) {
    const top = join('/sys/fs/cgroup', hierarchy, root);
    if (!existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory()) walk(join(dir, entry.name));
      dirs.push(dir);
    };
    walk(top);
    for (const dir of dirs) rmdirSync(dir);
  }
}

/**
 * Unmounts what is still mounted under a node's directory, deepest first: kubelet bind-mounts its
 * root directory onto itself (for mount propagation) and mounts pod volumes there (tmpfs for
 * secrets and tokens), and neither goes away when kubelet stops.
 */
function unmountUnder(dir: string): void {
  const mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mountPoints) run('umount', [point]);
}

/** Whether `local:up` recorded real-node processes (a kubelet's or containerd's PID file). */
export function realNodesRecorded(): boolean {
  const pids = join(localDir, 'pids');
  return existsSync(pids) && readdirSync(pids).some((f) => /^(kubelet|containerd)-/.test(f));
}

/** Whether a kubelet this environment started is still running (real nodes are up). */
export function realNodesRunning(): boolean {
  const pids = join(localDir, 'pids');
  return (
    existsSync(pids) &&
    readdirSync(pids).some((f) => /^kubelet-.+\.pid$/.test(f) && runningPid(f.slice(0, -4)) !== undefined)
  );
}

/**
 * Stops what upNodes started, by recorded PID: kube-proxy (and its nftables tables), then per node
 * its kubelet, its pods through CRI (so CNI releases their addresses and network namespaces) and its
 * containerd, and its cgroups; then the bridge goes and the sysctls kubelet changed are put back.
 * Images and certificates stay under the node directories, so the next start is warm.
 */
export async function downNodes(): Promise<string[]> {
  if (!existsSync(nodesDir)) return [];
  const stopped: string[] = [];
  if (await stopDaemon('kube-proxy')) stopped.push('kube-proxy');
  removeKubeProxyTables();
  const bin = run('bash', [join(scriptDir, 'build-node.sh'), '--print-bin-dir']).trim();
  const names = readdirSync(nodesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'kube-proxy')
    .map((e) => e.name);
  for (const name of names) {
    const node = { name, dir: join(nodesDir, name) };
    if (await stopDaemon(`kubelet-${name}`)) stopped.push(`kubelet-${name}`);
    if (runningPid(`containerd-${name}`) !== undefined) {
      const sandboxes = crictl(bin, node, ['pods', '-q']).split('\n').filter(Boolean);
      if (sandboxes.length > 0) {
        crictl(bin, node, ['stopp', ...sandboxes]);
        crictl(bin, node, ['rmp', '--force', ...sandboxes]);
      }
    }
    if (await stopDaemon(`containerd-${name}`)) stopped.push(`containerd-${name}`);
    unmountUnder(node.dir);
    removeCgroups(`/${name}`);
  }
  try {
    run('ip', ['link', 'del', podBridge.name]);
  } catch {
    // Not there: nothing to remove.
  }
  // Forwarding off again before the guard goes.
  restoreSysctls();
  try {
    nft(['delete', 'table', 'inet', forwardGuardTable]);
  } catch {
    // Not there: nothing to remove.
  }
  return stopped;
}

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its private key, both PEM files. */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

/** Every file the embedded control plane needs for TLS and service-account tokens. */
export interface ClusterPki {
  readonly dir: string;
  readonly ca: CertPair;
  readonly apiserver: CertPair;
  readonly webhook: CertPair;
  /** Client certificates, keyed by what they authenticate. */
  readonly admin: CertPair;
  readonly controllerManager: CertPair;
  readonly scheduler: CertPair;
  readonly kwok: CertPair;
  /** The aggregation layer's client certificate: kube-apiserver presents it to extension apiservers. */
  readonly frontProxyClient: CertPair;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  /** The admin's static bearer token, and the apiserver's --token-auth-file that grants it system:masters. */
  readonly adminToken: string;
  readonly tokenAuthFile: string;
}

interface Subject {
  readonly cn: string;
  readonly o?: string;
}

const openssl = (args: readonly string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

const subjectArg = ({ cn, o }: Subject): string => `/CN=${cn}${o === undefined ? '' : `/O=${o}`}`;

function ecKey(file: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

function signedCert(dir: string, name: string, ca: CertPair, subject: Subject, extensions: string): CertPair {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  ecKey(pair.key);
  openssl(['req', '-new', '-key', pair.key, '-subj', subjectArg(subject), '-out', csr]);
  writeFileSync(ext, extensions);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '825',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    pair.cert,
  ]);
  return pair;
}

const serverExtensions = (sans: readonly string[]): string =>
  [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${sans.join(',')}`,
    '',
  ].join('\n');

const clientExtensions = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=clientAuth',
  '',
].join('\n');

/**
 * A client certificate for `subject` (e.g. `{ cn: 'system:node:a', o: 'system:nodes' }`) signed by
 * the cluster CA, made once and kept; the real nodes' kubelets and kube-proxy use it.
 */
export function clientCert(pki: ClusterPki, dir: string, name: string, subject: Subject): CertPair {
  mkdirSync(dir, { recursive: true });
  return signedCert(dir, name, pki.ca, subject, clientExtensions);
}

/**
 * A certificate for a server that also dials its peers with it (KEDA's operator and metrics server
 * share one for HTTPS and their mutual-TLS gRPC), signed by the cluster CA, made once and kept.
 */
export function servingClientCert(
  pki: ClusterPki,
  dir: string,
  name: string,
  subject: Subject,
  sans: readonly string[],
): CertPair {
  mkdirSync(dir, { recursive: true });
  const extensions = serverExtensions(sans).replace(
    'extendedKeyUsage=serverAuth',
    'extendedKeyUsage=serverAuth,clientAuth',
  );
  return signedCert(dir, name, pki.ca, subject, extensions);
}

/**
 * Creates (once) a CA, server certificates for the apiserver and the EKS-auth webhook, client
 * certificates for each control-plane component, and the service-account signing key pair.
 * Existing files are kept, so restarts reuse the same CA and tokens stay valid.
 */
export function ensurePki(dir: string): ClusterPki {
  mkdirSync(dir, { recursive: true });
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (!existsSync(ca.cert) || !existsSync(ca.key)) {
    ecKey(ca.key);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      ca.key,
      '-subj',
      '/CN=m2-local-ca',
      '-days',
      '3650',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out',
      ca.cert,
    ]);
  }
  const apiserverSans = [
    'IP:127.0.0.1',
    'IP:10.96.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPub = join(dir, 'sa.pub');
  if (!existsSync(serviceAccountKey) || !existsSync(serviceAccountPub)) {
    ecKey(serviceAccountKey);
    openssl(['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub]);
  }
  // The admin authenticates with a static token rather than a client certificate: a certificate
  // in the kubeconfig would win over `kubectl --token <EKS token>`, which must show the mapped user.
  const tokenAuthFile = join(dir, 'tokens.csv');
  if (!existsSync(tokenAuthFile)) {
    writeFileSync(tokenAuthFile, `${randomBytes(32).toString('hex')},m2:admin,m2:admin,"system:masters"\n`, {
      mode: 0o600,
    });
  }
  const adminToken = readFileSync(tokenAuthFile, 'utf8').split(',')[0] ?? '';
  return {
    dir,
    ca,
    adminToken,
    tokenAuthFile,
    apiserver: signedCert(dir, 'apiserver', ca, { cn: 'kube-apiserver' }, serverExtensions(apiserverSans)),
    webhook: signedCert(
      dir,
      'eks-auth-webhook',
      ca,
      { cn: 'eks-auth-webhook' },
      serverExtensions(['IP:127.0.0.1', 'DNS:localhost']),
    ),
    admin: signedCert(dir, 'admin', ca, { cn: 'm2:admin', o: 'system:masters' }, clientExtensions),
    controllerManager: signedCert(
      dir,
      'kube-controller-manager',
      ca,
      { cn: 'system:kube-controller-manager' },
      clientExtensions,
    ),
    scheduler: signedCert(dir, 'kube-scheduler', ca, { cn: 'system:kube-scheduler' }, clientExtensions),
    kwok: signedCert(dir, 'kwok', ca, { cn: 'kwok-controller', o: 'system:masters' }, clientExtensions),
    // Its CN is the one name --requestheader-allowed-names accepts (see k8s.ts).
    frontProxyClient: signedCert(
      dir,
      'front-proxy-client',
      ca,
      { cn: 'front-proxy-client' },
      clientExtensions,
    ),
    serviceAccountKey,
    serviceAccountPub,
  };
}

const base64File = (file: string): string => readFileSync(file).toString('base64');

/**
 * Renders a self-contained kubeconfig (certificates embedded) for a client certificate or a
 * bearer token, or a credential-less server entry when neither is given (webhook configs).
 */
export function kubeconfigYaml(options: {
  readonly server: string;
  readonly caFile: string;
  readonly user: string;
  readonly client?: CertPair;
  readonly token?: string;
}): string {
  const userLines =
    options.client !== undefined
      ? [
          '  user:',
          `    client-certificate-data: ${base64File(options.client.cert)}`,
          `    client-key-data: ${base64File(options.client.key)}`,
        ]
      : options.token !== undefined
        ? ['  user:', `    token: ${options.token}`]
        : ['  user: {}'];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: m2-local',
    '  cluster:',
    `    server: ${options.server}`,
    `    certificate-authority-data: ${base64File(options.caFile)}`,
    'users:',
    `- name: ${options.user}`,
    ...userLines,
    'contexts:',
    '- name: m2-local',
    '  context:',
    '    cluster: m2-local',
    `    user: ${options.user}`,
    'current-context: m2-local',
    '',
  ].join('\n');
}

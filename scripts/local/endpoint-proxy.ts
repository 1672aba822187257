import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { z } from 'zod';
import { tcpPassThrough } from './tcpPassThrough.ts';

/**
 * The cluster endpoint clients use, in front of kube-apiserver: a TCP pass-through (TLS ends at
 * the apiserver) that accepts connections only while the apiserver's /readyz says ready — what the
 * load balancer in front of EKS's apiservers does. Without it, a restarted apiserver serves
 * requests before its RBAC caches are synced and answers 403 to callers who are allowed.
 * While not ready the port is closed, so clients see "connection refused" and retry.
 */
const settings = z
  .object({
    M2_PROXY_PORT: z.coerce.number().int().positive(),
    M2_PROXY_BACKEND_PORT: z.coerce.number().int().positive(),
    M2_PROXY_CA: z.string().min(1),
  })
  .parse(process.env);

const ca = readFileSync(settings.M2_PROXY_CA);

function backendReady(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: settings.M2_PROXY_BACKEND_PORT, path: '/readyz', ca, timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

const server = tcpPassThrough(settings.M2_PROXY_BACKEND_PORT);

let listening = false;
let switching = false;

async function follow(): Promise<void> {
  if (switching) return;
  const ready = await backendReady();
  if (ready === listening) return;
  switching = true;
  if (ready) {
    server.listen(settings.M2_PROXY_PORT, '127.0.0.1', () => {
      listening = true;
      switching = false;
      console.log(new Date().toISOString(), 'apiserver ready: accepting connections');
    });
  } else {
    // No callback: 'close' comes only once every open connection ended, so each one would stay listening.
    server.close();
    listening = false;
    switching = false;
    console.log(new Date().toISOString(), 'apiserver not ready: refusing connections');
  }
}

setInterval(() => void follow(), 200);
void follow();

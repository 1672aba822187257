import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tcpPassThrough } from '../../../scripts/local/tcpPassThrough.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => {
    servers.push(server);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

const connections = (server: Server): Promise<number> =>
  new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );

describe('tcpPassThrough', () => {
  it('passes bytes through and lets go of a connection the upstream closed', async () => {
    // An upstream that answers and closes, like an apiserver ending a watch or a moto reply with close.
    const upstreamPort = await listen(createServer((socket) => socket.end('answer')));
    const proxy = tcpPassThrough(upstreamPort);
    const proxyPort = await listen(proxy);

    const received = await new Promise<string>((resolve, reject) => {
      let data = '';
      const client = connect(proxyPort, '127.0.0.1');
      client.on('data', (chunk) => {
        data += chunk.toString();
      });
      client.on('end', () => resolve(data));
      client.on('error', reject);
    });

    expect(received).toBe('answer');
    // A socket left open after its peer went is a held descriptor (the endpoint once held 19,971 of them).
    await vi.waitFor(async () => expect(await connections(proxy)).toBe(0), { timeout: 10_000, interval: 50 });
  });

  it('closes the upstream connection when the client goes', async () => {
    let upstreamClosed = false;
    const upstream = createServer((socket) => {
      socket.on('close', () => {
        upstreamClosed = true;
      });
    });
    const proxyPort = await listen(tcpPassThrough(await listen(upstream)));

    const client = connect(proxyPort, '127.0.0.1');
    await new Promise((resolve) => client.on('connect', resolve));
    await vi.waitFor(async () => expect(await connections(upstream)).toBe(1), {
      timeout: 10_000,
      interval: 50,
    });
    client.destroy();

    await vi.waitFor(() => expect(upstreamClosed).toBe(true), { timeout: 10_000, interval: 50 });
  });
});

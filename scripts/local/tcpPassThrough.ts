import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP server that passes every connection through, bytes unchanged, to `targetPort` on 127.0.0.1.
 * Either side failing ends both, with a reset towards the client so it does not wait for a reply
 * (a dying upstream's reset reaches the client as ECONNRESET). SIGTERM/SIGINT close it and exit.
 */
export function tcpPassThrough(targetPort: number): Server {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      for (const socket of sockets) socket.destroy();
      server.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    });
  }
  return server;
}

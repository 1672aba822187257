import { z } from 'zod';
import { tcpPassThrough } from './tcpPassThrough.ts';

/**
 * A TCP relay from an address pods reach (the pod bridge's gateway) to a server that listens on
 * 127.0.0.1 only (moto). Pods cannot reach the host's 127.0.0.1 (it is their own), and moto_server
 * binds one address; a second listener next to it keeps moto's state in one process and needs no
 * restart of moto, nor route_localnet on the bridge (which would expose every 127.0.0.1 server).
 * Bytes pass unchanged, so the HTTP Host header (from which moto builds queue URLs) is the pods'.
 */
const settings = z
  .object({
    M2_RELAY_LISTEN_HOST: z.ipv4(),
    M2_RELAY_LISTEN_PORT: z.coerce.number().int().positive(),
    M2_RELAY_TARGET_PORT: z.coerce.number().int().positive(),
  })
  .parse(process.env);

const server = tcpPassThrough(settings.M2_RELAY_TARGET_PORT);

server.listen(settings.M2_RELAY_LISTEN_PORT, settings.M2_RELAY_LISTEN_HOST, () => {
  console.log(
    new Date().toISOString(),
    `relaying ${settings.M2_RELAY_LISTEN_HOST}:${settings.M2_RELAY_LISTEN_PORT} -> 127.0.0.1:${settings.M2_RELAY_TARGET_PORT}`,
  );
});

import type { AddressInfo, Server } from 'node:net';

/**
 * Listens on 127.0.0.1 (`port`, or a free one with 0) and resolves with the base URL `http://127.0.0.1:<port>`.
 * A port in use rejects (one line for the caller) instead of an unhandled 'error' event later.
 */
export function listenLocal(server: Server, port = 0): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

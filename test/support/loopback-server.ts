import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordAuthorization } from './secrets.js';

/**
 * A real HTTP server a test stands up for the service to call (a peer, a CPO system): on a free
 * loopback port (`baseUrl`), stopped at once, open connections dropped. The Authorization of
 * every request it receives is recorded for the secrets scan: what the service presents must
 * appear in no log or answer. Subclasses answer in {@link handle}; a request whose handling fails
 * (e.g. one the service abandons midway) is cut short.
 */
export abstract class LoopbackServer {
  private server?: Server;
  baseUrl = '';

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      recordAuthorization(req.headers.authorization);
      void (async () => this.handle(req, res))().catch(() => res.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

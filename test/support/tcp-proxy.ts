import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '../../src/common/free-port.js';

/** A loopback TCP proxy to a PostgreSQL server that a test can cut and restore. */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private silent = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.port = await freePort();
    this.server = createServer((client) => {
      if (this.cutOff) {
        client.destroy();
        return;
      }
      if (this.silent) {
        // Accepted, never answered: a connection into a black hole.
        this.sockets.add(client);
        client.on('error', () => undefined);
        return;
      }
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    return this;
  }

  /** Drops every connection and refuses new ones, as a database that went away. */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * Stops forwarding without closing anything: open connections and new ones get no answer and no
   * error, as when a firewall starts dropping packets or the database host freezes.
   */
  blackHole(): void {
    this.silent = true;
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  /** Back to normal for new connections; those held in the black hole are dropped. */
  restore(): void {
    if (this.silent) for (const socket of this.sockets) socket.destroy();
    this.cutOff = false;
    this.silent = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

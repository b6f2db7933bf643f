import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';

/** How long in-flight requests may take to finish once a stop is asked for, before they are cut. */
/** Within the 30 s most platforms (Kubernetes, Docker) give before SIGKILL, closing included. */
export const DRAIN_TIMEOUT_MS = 20_000;
const IDLE_SWEEP_MS = 50;

/**
 * Our own signal handling rather than enableShutdownHooks(): on SIGINT or SIGTERM, stop accepting
 * connections and let the requests under way finish first (Nest would close the database pool
 * before the HTTP server), then close the app (pool, embedded PostgreSQL) and exit 0 (Nest
 * re-raises the signal, which exits 143).
 *
 * Keep-alive clients would keep a busy connection open forever, and `server.close()` waits for
 * every connection: while draining, each new request on an open connection is still answered,
 * with `Connection: close`, and every connection that falls idle is closed, so the drain ends as
 * soon as the requests under way are answered. A request still running after
 * {@link DRAIN_TIMEOUT_MS} is cut.
 *
 * Call before `listen`: the middleware must come before the routes.
 */
export function stopGracefullyOnSignals(app: NestExpressApplication): void {
  let draining = false;
  app.use((_request: Request, response: Response, next: NextFunction) => {
    if (draining) response.setHeader('Connection', 'close');
    next();
  });
  const stop = () => {
    if (draining) return;
    draining = true;
    const server: Server = app.getHttpServer();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
    closed
      .then(() => {
        clearInterval(sweep);
        clearTimeout(deadline);
        return app.close();
      })
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error('Shutdown failed', error);
        process.exit(1);
      });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
}

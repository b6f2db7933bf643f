import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** How long in-flight requests may take to finish once a stop is asked for, before they are cut. */
/** Within the 30 s most platforms (Kubernetes, Docker) give before SIGKILL, closing included. */
export const DRAIN_TIMEOUT_MS = 20_000;
const IDLE_SWEEP_MS = 50;

export interface GracefulStop {
  /** From now on a signal drains `app` (every request its HTTP server serves, the edge's too). */
  drain(app: NestExpressApplication): void;
  /** A stop was asked for (a start that fails meanwhile is part of it, not an error to report). */
  readonly requested: boolean;
}

/**
 * Our own signal handling rather than enableShutdownHooks(), installed first thing at start: on
 * SIGINT or SIGTERM, stop accepting connections and let the requests under way finish first
 * (Nest would close the database pool before the HTTP server), then close the app (pool), then
 * `stopLast()` (the embedded PostgreSQL, which runs in a session of its own and so gets no
 * signal of ours), and exit 0 (Nest re-raises the signal, which exits 143). A signal that comes
 * while the app is still starting runs `stopLast()` and exits 0.
 *
 * Keep-alive clients would keep a busy connection open forever, and `server.close()` waits for
 * every connection: while draining, each new request on an open connection is still answered,
 * with `Connection: close`, and every connection that falls idle is closed, so the drain ends as
 * soon as the requests under way are answered. A request still running after
 * {@link DRAIN_TIMEOUT_MS} is cut.
 *
 * A Ctrl-C may reach the service more than once (the terminal signals its whole process group,
 * and npm and the Nest CLI also forward the signals they get to their child): later signals are
 * ignored, rather than left to Node's default, which would end the process in the middle of the
 * drain.
 */
export function handleStopSignals(stopLast: () => Promise<void>): GracefulStop {
  let draining = false;
  let requested = false;
  let app: NestExpressApplication | undefined;

  const exitAfter = (work: Promise<unknown>) =>
    work
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error('Shutdown failed', error);
        return stopLast().finally(() => process.exit(1));
      });

  const stop = () => {
    if (requested) return;
    requested = true;
    if (!app) {
      void exitAfter(stopLast());
      return;
    }
    draining = true;
    const server: Server = app.getHttpServer();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
    const running = app;
    void exitAfter(
      closed
        .then(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          return running.close();
        })
        .then(stopLast),
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);

  return {
    drain(nestApp) {
      // First of the server's listeners: ahead of Express and of the edge's front alike.
      nestApp
        .getHttpServer()
        .prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
          if (draining) response.setHeader('Connection', 'close');
        });
      app = nestApp;
    },
    get requested() {
      return requested;
    },
  };
}

/** {@link handleStopSignals} for an app already created, with nothing to stop after it. */
export function stopGracefullyOnSignals(
  app: NestExpressApplication,
  stopLast: () => Promise<void> = () => Promise.resolve(),
): GracefulStop {
  const stop = handleStopSignals(stopLast);
  stop.drain(app);
  return stop;
}

import { randomBytes } from 'node:crypto';
import { eventually } from './support/eventually.js';
import { useHarness } from './support/harness.js';
import { scrapeMetrics } from './support/metrics.js';
import { peerToken, ProbePeer, seedRegisteredConnections } from './support/probe-peer.js';

// Probes across replicas (DESIGN 10): each registered connection once per interval whichever
// replica claims it, spread over the interval, and none left claimed by a replica that died.

describe('connection health probes across two replicas', () => {
  const INTERVAL_S = 4;
  const CONNECTIONS = 60;
  const ROUNDS = 3;
  const t = useHarness({ app: { healthProbeIntervalS: INTERVAL_S }, replica: true });
  const peer = new ProbePeer();

  beforeAll(async () => {
    await peer.start();
    t.onClose(() => peer.stop());
  });

  it('probes each connection once per interval, spread over it (no second above twice the average rate)', async () => {
    await seedRegisteredConnections(t.db, peer, t.config.encryptionKey, CONNECTIONS);
    // Every connection probed once: from here on, each is in its turn.
    await eventually(
      () => Promise.resolve(new Set(peer.received.map((r) => r.connection)).size),
      (probed) => probed === CONNECTIONS,
      2 * INTERVAL_S * 1000,
    );
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, ROUNDS * INTERVAL_S * 1000));
    const window = peer.received.filter(
      (r) => r.at >= from && r.at < from + ROUNDS * INTERVAL_S * 1000,
    );

    for (let n = 0; n < CONNECTIONS; n++) {
      const times = peer.of(n).map((r) => r.at);
      // Once per interval: never a second probe of a connection within its interval (two
      // replicas probing it would be ~0 ms apart), none skipped.
      const gaps = times.slice(1).map((at, i) => at - times[i]);
      expect(Math.min(...gaps)).toBeGreaterThan((INTERVAL_S * 1000) / 2);
      const inWindow = window.filter((r) => r.connection === String(n)).length;
      expect(inWindow).toBeGreaterThanOrEqual(ROUNDS - 1);
      expect(inWindow).toBeLessThanOrEqual(ROUNDS + 1);
      // With its own token, which the peer accepted.
      expect(new Set(peer.of(n).map((r) => r.authorization))).toEqual(
        new Set([`Token ${peerToken(n)}`]),
      );
    }

    // Spread: per second of the window, at most twice the average rate.
    const perSecond = new Array<number>(ROUNDS * INTERVAL_S).fill(0);
    for (const r of window) perSecond[Math.floor((r.at - from) / 1000)] += 1;
    const average = window.length / perSecond.length;
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(2 * average);

    const health = await t.db.query<{ health_status: string; count: number }>(
      `SELECT health_status, count(*)::int AS count FROM connections GROUP BY 1`,
    );
    expect(health).toEqual([{ health_status: 'UP', count: CONNECTIONS }]);
    // Both replicas count the same connections by health; the probes are shared between them.
    for (const app of [t.app, t.replica]) {
      expect((await scrapeMetrics(app))('ocpi_connection_health{health="UP"}')).toBe(CONNECTIONS);
    }
  }, 60_000);
});

describe('a replica killed in the middle of a probe', () => {
  const h = useHarness({ app: false });
  const peer = new ProbePeer();
  const key = randomBytes(32);

  beforeAll(async () => {
    await peer.start();
    h.onClose(() => peer.stop());
  });

  it('leaves the connection claimed only until its lease runs out: another replica probes it', async () => {
    const doomed = await h.startService({
      DATABASE_URL: h.db.url,
      ADMIN_TOKEN: 'replica-admin-token-0123456789',
      ENCRYPTION_KEY: key.toString('hex'),
      ALLOW_INSECURE_PEER_URLS: 'true',
      ALLOW_PRIVATE_PEER_ADDRESSES: 'true',
      DATA_DIR: h.tempDir('doomed'),
      HEALTH_PROBE_INTERVAL_S: '1',
      PEER_TIMEOUT_MS: '1000',
    });
    peer.hold = true;
    const [id] = await seedRegisteredConnections(h.db, peer, key, 1);
    await eventually(
      () => Promise.resolve(peer.received.length),
      (n) => n > 0,
      10_000,
    );
    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBeNull();
    // It died holding the claim: the lease is there, and nothing was recorded.
    const [claimed] = await h.db.query<{ leased: boolean; health_status: string }>(
      `SELECT probing_until > now() AS leased, health_status FROM connections WHERE operation_id = $1`,
      [id],
    );
    expect(claimed).toEqual({ leased: true, health_status: 'UNKNOWN' });

    peer.hold = false;
    const survivor = await h.startApp({ healthProbeIntervalS: 1, encryptionKey: key });
    const row = await eventually(
      async () =>
        (
          await h.db.query<{ health_status: string; probing_until: Date | null }>(
            `SELECT health_status, probing_until FROM connections WHERE operation_id = $1`,
            [id],
          )
        )[0],
      (r) => r.health_status === 'UP',
      // The lease (PEER_TIMEOUT_MS and the database's 5 s), then the next turn.
      15_000,
    );
    expect(row.health_status).toBe('UP');
    const probes = (await scrapeMetrics(survivor))('ocpi_health_probes_total{outcome="UP"}');
    expect(probes).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

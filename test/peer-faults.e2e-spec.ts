import type { Response } from 'supertest';
import { freePort } from '../src/common/free-port.js';
import type { EndpointFault, FaultTarget } from '../src/hub-sim/hub-simulator.js';
import { createOperation, mintTokenA, tokenHeader } from './support/ocpi.js';
import {
  ADMIN_TOKEN,
  useHarness,
  type AppHandle,
  type FakePeer,
  type TestApp,
} from './support/harness.js';

/**
 * Peer faults at every step of every handshake, both directions: each fault at each step leaves
 * the operation exactly as it was (but for what DESIGN section 5 says a failed step leaves),
 * answers the way the contract says, records a FAILED handshake naming the step and why, leaks
 * no token, and holds no lock afterwards.
 */

interface FaultSpec {
  /** How the fake peer (the hub simulator) is told to fail (a call-back fails otherwise). */
  hub?: EndpointFault | 'no_2_1_1' | 'no_credentials_endpoint';
  /** Why the step failed, as the answer and the history must say it. */
  why: RegExp;
  /** The status_code of the peer's own envelope: in the admin 502 and on the history's step. */
  peerStatusCode?: number;
  /** What a FromIOP POST or PUT answers (3001 when not said). */
  ocpiStatusCode?: 3002 | 3003;
  /** The call went well; what it answered cannot be used (its history step has no error). */
  unusableAnswer?: true;
}

/**
 * Every failure below HTTP, in the one message that does not tell a closed, an open and a silent
 * port apart (DESIGN section 11).
 */
const NETWORK_FAILURE =
  /could not be reached or gave no complete answer within 500 ms \(refused, reset, unreachable, TLS or timeout are not told apart here; this service's log names the cause\)/;

/** What each fault must be reported as. The first ten happen at any step. */
const FAULTS = {
  /** The peer's socket is destroyed without an answer (connection reset). */
  down: { hub: 'down', why: NETWORK_FAILURE },
  /** Nothing listens on the port. */
  refused: { hub: 'refused', why: NETWORK_FAILURE },
  /** The peer never answers; the app gives up after peerTimeoutMs. */
  timeout: { hub: 'hang', why: NETWORK_FAILURE },
  http500: { hub: 'http500', why: /answered HTTP 500/, peerStatusCode: 3000 },
  html: { hub: 'html', why: /answered something that is not an OCPI JSON envelope/ },
  truncated: { hub: 'bad_json', why: /answered something that is not an OCPI JSON envelope/ },
  /** HTTP 200, status_code 2000, and a status_message that quotes the tokens we sent. */
  status2000: {
    hub: 'status_2000',
    why: /answered status_code 2000 \(Not a token we know\.{160}: Token \[token\](, nor \[token\])?\)/,
    peerStatusCode: 2000,
  },
  status3000: { hub: 'status_3000', why: /answered status_code 3000/, peerStatusCode: 3000 },
  'redirect-other-host': {
    hub: 'redirect_other_host',
    why: /redirected to another host \(localhost:1\), which is not followed/,
  },
  /** Over the 1 MiB cap. */
  huge: { hub: 'huge', why: /answered more than 1048576 bytes/ },
  'no-2.1.1': {
    hub: 'no_2_1_1',
    why: /The peer offers no OCPI 2\.1\.1 \(offers: 2\.2\)/,
    ocpiStatusCode: 3002,
    unusableAnswer: true,
  },
  'no-credentials-endpoint': {
    hub: 'no_credentials_endpoint',
    why: /version details list no credentials endpoint/,
    ocpiStatusCode: 3003,
    unusableAnswer: true,
  },
} satisfies Record<string, FaultSpec>;
type PeerFault = keyof typeof FAULTS;
const SPEC: Record<PeerFault, FaultSpec> = FAULTS;

/** The peer could not call us back during our POST or PUT, and answered so. */
const CALLBACK_FAILED: FaultSpec = {
  why: /answered status_code 3001 \(Unable to use the client API\)/,
  peerStatusCode: 3001,
};
const CALLBACK_FAULTS = ['unreachable', 'wrong-token'] as const;

/** The faults that can happen at any call. */
const ANY_STEP: PeerFault[] = [
  'down',
  'refused',
  'timeout',
  'http500',
  'html',
  'truncated',
  'status2000',
  'status3000',
  'redirect-other-host',
  'huge',
];

interface Step {
  /** Where the fake peer injects the fault. */
  target: FaultTarget;
  /** The step as the admin 502 names it. */
  name: 'versions' | 'version_details' | 'credentials';
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Faults of what this call answers, besides {@link ANY_STEP}. */
  own: PeerFault[];
}

const VERSIONS: Step = {
  target: 'versions',
  name: 'versions',
  method: 'GET',
  path: '/ocpi/emsp/versions',
  own: ['no-2.1.1'],
};
const DETAILS: Step = {
  target: 'details',
  name: 'version_details',
  method: 'GET',
  path: '/ocpi/emsp/2.1.1',
  own: ['no-credentials-endpoint'],
};
const credentials = (method: 'POST' | 'PUT' | 'DELETE'): Step => ({
  target: `credentials_${method.toLowerCase() as Lowercase<typeof method>}`,
  name: 'credentials',
  method,
  path: '/ocpi/emsp/2.1.1/credentials',
  own: [],
});

/** Every fault at every step of a handshake whose calls are `steps`, in their order. */
function table(steps: Step[]): [string, PeerFault, Step, Step[]][] {
  return steps.flatMap((step, i) =>
    [...ANY_STEP, ...step.own].map((fault): [string, PeerFault, Step, Step[]] => [
      `${step.method} ${step.name}`,
      fault,
      step,
      steps.slice(0, i + 1),
    ]),
  );
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Snapshot {
  operations: Record<string, unknown>[];
  connections: Record<string, unknown>[];
  tokens: Record<string, unknown>[];
}

interface HistoryEntry {
  action: string;
  initiated_by: string;
  outcome: string;
  error: string | null;
  steps: {
    request: string;
    http_status: number | null;
    ocpi_status_code: number | null;
    error?: string;
  }[];
}

describe('Peer faults at every step of every handshake', () => {
  // A timeout small enough to keep the timeouts quick, large enough for a peer to call us back in.
  const t = useHarness({ app: { peerTimeoutMs: 500 }, reachable: true });
  const { db } = t;
  /** Every answer of the service; only the admin 502s of failed handshakes may be 5xx. */
  const answers: { request: string; status: number }[] = [];

  afterAll(() => {
    const unexpected = answers.filter(
      (a) => a.status >= 500 && !(a.status === 502 && a.request.startsWith('POST /admin/')),
    );
    expect(unexpected).toEqual([]);
  });

  function track(request: string) {
    return (response: Response) => {
      answers.push({ request, status: response.status });
      return response;
    };
  }

  const adminPost = (operation: string, action: string, body?: object, app: AppHandle = t) =>
    app.http
      .post(`/admin/operations/${operation}/${action}`)
      .set(app.admin)
      .send(body)
      .then(track(`POST /admin/${action}`));

  const ocpi = (method: 'get' | 'post' | 'put', path: string, token: string, body?: object) =>
    t.http[method](path)
      .set(tokenHeader(token))
      .send(body)
      .then(track(`${method.toUpperCase()} ${path}`));

  const snapshot = async (): Promise<Snapshot> =>
    (
      await db.query<{ snapshot: Snapshot }>(`
        SELECT json_build_object(
          'operations', (SELECT json_agg(o ORDER BY o.id) FROM operations o),
          'connections', (SELECT json_agg(c ORDER BY c.operation_id) FROM connections c),
          'tokens', coalesce((SELECT json_agg(t ORDER BY t.id) FROM issued_tokens t), '[]')
        ) AS snapshot`)
    )[0].snapshot;

  const history = async (operation: string) =>
    (await t.http.get(`/admin/operations/${operation}/handshakes?limit=1`).set(t.admin).expect(200))
      .body as { items: HistoryEntry[]; total: number };

  /** Advisory locks held in this test's database: a handshake that left its lock would show. */
  const locksHeld = async () =>
    (
      await db.query<{ n: number }>(`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory'
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
    )[0].n;

  /**
   * Runs `run` with `fault` happening at `step`. A `refused` fault on a URL we stored at
   * registration (not handed out again in this handshake) is a peer that is not listening: it is
   * stopped meanwhile, then started again on the same port.
   */
  async function withFault<T>(
    peer: FakePeer,
    fault: PeerFault,
    step: Step,
    { storedUrl = false } = {},
    run: () => Promise<T>,
  ): Promise<T> {
    if (fault === 'refused' && storedUrl) {
      const port = Number(new URL(peer.baseUrl).port);
      await peer.stop();
      try {
        return await run();
      } finally {
        await peer.start(port);
      }
    }
    const { hub } = SPEC[fault];
    if (hub === 'no_2_1_1' || hub === 'no_credentials_endpoint') peer.faults[hub] = true;
    else if (hub) peer.faults[step.target] = hub;
    return run();
  }

  interface Expected {
    operation: string;
    action: 'REGISTER' | 'UPDATE' | 'UNREGISTER';
    initiatedBy: 'PEER' | 'US';
    /** The calls the handshake made, the last one failing. */
    steps: Step[];
    fault: FaultSpec;
    /** Tokens that must appear nowhere in the answer or the history (asked once it is over). */
    secrets: () => (string | undefined)[];
  }

  /**
   * Runs `act` and checks what every failed handshake must leave: the history entry, no token in
   * the answer or the history, no lock held. Returns the answer and the rows before and after.
   */
  async function failHandshake(act: () => Promise<Response>, expected: Expected) {
    const before = await snapshot();
    const { total } = await history(expected.operation);
    const response = await act();
    const after = await snapshot();
    const entries = await history(expected.operation);
    expect(entries.total).toBe(total + 1);
    const [entry] = entries.items;
    expect(entry).toMatchObject({
      action: expected.action,
      initiated_by: expected.initiatedBy,
      outcome: 'FAILED',
      error: expect.stringMatching(expected.fault.why),
    });
    expect(entry.steps).toHaveLength(expected.steps.length);
    expected.steps.forEach((s, i) =>
      expect(entry.steps[i].request).toMatch(
        new RegExp(`^${s.method} http://127\\.0\\.0\\.1:\\d+${escape(s.path)}$`),
      ),
    );
    const { unusableAnswer, why, peerStatusCode } = expected.fault;
    for (const ok of unusableAnswer ? entry.steps : entry.steps.slice(0, -1)) {
      expect(ok).toMatchObject({ http_status: 200, ocpi_status_code: 1000 });
      expect(ok.error).toBeUndefined();
    }
    if (!unusableAnswer) {
      expect(entry.steps.at(-1)).toMatchObject({
        error: expect.stringMatching(why),
        ocpi_status_code: peerStatusCode ?? null,
      });
    }
    const shown = JSON.stringify(response.body) + JSON.stringify(entry);
    const secrets = [...expected.secrets(), ADMIN_TOKEN].filter((s) => s !== undefined);
    expect(secrets.length).toBeGreaterThan(1);
    for (const secret of secrets) expect(shown).not.toContain(secret);
    expect(await locksHeld()).toBe(0);
    return { response, before, after };
  }

  /** The tokens issued during the handshake, and the others as they were. */
  function newTokens(before: Snapshot, after: Snapshot) {
    const known = new Set(before.tokens.map((row) => row.id));
    return {
      added: after.tokens.filter((row) => !known.has(row.id)),
      kept: after.tokens.filter((row) => known.has(row.id)),
    };
  }

  /** What a FromIOP POST or PUT answers when our call-back to the peer fails: 200, OCPI 300x. */
  function expectFromIopFailure(response: Response, fault: FaultSpec) {
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status_code: fault.ocpiStatusCode ?? 3001,
      status_message: expect.stringMatching(fault.why),
      timestamp: expect.any(String),
    });
  }

  describe('FromIOP register: the call-back during the peer POST fails', () => {
    const CREDENTIALS = '/ocpi/FR/AB1/2.1.1/credentials';
    let peer: FakePeer;
    let tokenA: string;

    beforeAll(async () => {
      peer = await t.startPeer();
      await createOperation(t, 'FR*AB1');
      tokenA = await mintTokenA(t, 'FR*AB1');
    });
    beforeEach(() => peer.reset());

    it.each(table([VERSIONS, DETAILS]))(
      '%s: %s answers 200 / 300x, stores nothing, keeps token A',
      async (_name, fault, step, steps) => {
        // The credentials are made once the fault is set: a `refused` versions URL is in them.
        const { response, before, after } = await withFault(peer, fault, step, {}, () =>
          failHandshake(() => ocpi('post', CREDENTIALS, tokenA, peer.credentials()), {
            operation: 'FR*AB1',
            action: 'REGISTER',
            initiatedBy: 'PEER',
            steps,
            fault: SPEC[fault],
            secrets: () => [tokenA, peer.expectedToken],
          }),
        );
        expectFromIopFailure(response, SPEC[fault]);
        expect(after).toEqual(before);
        await ocpi('get', '/ocpi/FR/AB1/versions', tokenA).then((r) => expect(r.status).toBe(200));
      },
    );

    it('registers at the next POST: no lock left, token A still valid', async () => {
      const response = await ocpi('post', CREDENTIALS, tokenA, peer.credentials());
      expect(response.body.status_code).toBe(1000);
      expect(response.status).toBe(200);
    });
  });

  describe('FromIOP PUT: the call-back during the peer PUT fails', () => {
    const CREDENTIALS = '/ocpi/FR/AB2/2.1.1/credentials';
    let peer: FakePeer;
    /** The token the peer uses with us, returned by its POST. */
    let ours: string;

    beforeAll(async () => {
      peer = await t.startPeer();
      await createOperation(t, 'FR*AB2');
      const tokenA = await mintTokenA(t, 'FR*AB2');
      peer.expectedToken = 'peer-ab2-token-1';
      const registered = await ocpi('post', CREDENTIALS, tokenA, peer.credentials());
      expect(registered.body.status_code).toBe(1000);
      ours = registered.body.data.token as string;
    });
    beforeEach(() => {
      peer.reset();
      // The peer PUTs a new token of its own and expects it when we call it back.
      peer.expectedToken = 'peer-ab2-token-2';
    });

    it.each(table([VERSIONS, DETAILS]))(
      '%s: %s answers 200 / 300x and leaves the connection as it was',
      async (_name, fault, step, steps) => {
        const { response, before, after } = await withFault(peer, fault, step, {}, () =>
          failHandshake(() => ocpi('put', CREDENTIALS, ours, peer.credentials()), {
            operation: 'FR*AB2',
            action: 'UPDATE',
            initiatedBy: 'PEER',
            steps,
            fault: SPEC[fault],
            secrets: () => [ours, 'peer-ab2-token-1', 'peer-ab2-token-2'],
          }),
        );
        expectFromIopFailure(response, SPEC[fault]);
        expect(after).toEqual(before);
        // The connection token still opens everything, and we still call the peer with its old one.
        await ocpi('get', CREDENTIALS, ours).then((r) => expect(r.status).toBe(200));
        const peerToken = await t.http
          .get('/admin/operations/FR*AB2/connection/peer-token')
          .set(t.admin);
        expect(peerToken.body).toEqual({ token: 'peer-ab2-token-1' });
      },
    );

    it('updates at the next PUT: no lock left, the new token replaces ours', async () => {
      const response = await ocpi('put', CREDENTIALS, ours, peer.credentials());
      expect(response.body.status_code).toBe(1000);
      await ocpi('get', CREDENTIALS, ours).then((r) => expect(r.status).toBe(401));
      await ocpi('get', CREDENTIALS, response.body.data.token as string).then((r) =>
        expect(r.status).toBe(200),
      );
    });
  });

  /**
   * The admin 502 of a failed ToIOP step: which step, why, and the peer's status_code when its
   * answer carried one.
   */
  function expect502(response: Response, fault: FaultSpec, step: Step) {
    expect(response.status).toBe(502);
    expect(response.body).toEqual({
      status: 502,
      step: step.name,
      error: expect.stringMatching(fault.why),
      ...(fault.peerStatusCode !== undefined && { status_code: fault.peerStatusCode }),
    });
  }

  /** The token we sent in the last POST or PUT the peer received, if it received one. */
  const sentToken = (peer: FakePeer, method: 'POST' | 'PUT') =>
    (peer.received.filter((r) => r.method === method).at(-1)?.body as { token?: string })?.token;

  /**
   * Makes the peer's call-back to us fail during our POST or PUT. `unreachable`: the handshake
   * runs on a second instance whose PUBLIC_URL is a closed port (returned, to close after);
   * `wrong-token`: the peer presents a token we never issued, which we answer 401.
   */
  async function failCallback(
    peer: FakePeer,
    how: (typeof CALLBACK_FAULTS)[number],
  ): Promise<TestApp | undefined> {
    if (how === 'wrong-token') {
      peer.faults.callback_token = 'not-the-token-we-sent';
      return undefined;
    }
    return t.startApp({ publicUrl: `http://127.0.0.1:${await freePort()}`, peerTimeoutMs: 500 });
  }

  describe('ToIOP register', () => {
    let peer: FakePeer;
    const TOKEN_A = 'iop-token-A-ab3';
    const STEPS = [VERSIONS, DETAILS, credentials('POST')];

    beforeAll(async () => {
      peer = await t.startPeer();
      await createOperation(t, 'FR*AB3');
    });
    beforeEach(() => {
      peer.reset();
      peer.expectedToken = TOKEN_A;
    });

    /**
     * The connection says why in last_error and nothing else is written before the POST. From the
     * POST on, the one other trace is the token we sent in it: issued PENDING (the peer calls us
     * back with it while the POST is open), REVOKED when the POST fails.
     */
    function expectNothingButRevokedToken(
      before: Snapshot,
      after: Snapshot,
      posted: boolean,
      why: RegExp,
    ) {
      expectLastError(
        before,
        after,
        'AB3',
        new RegExp(`^Registration with the peer failed \\(.*${why.source}.*\\)$`),
      );
      const { added, kept } = newTokens(before, after);
      expect(kept).toEqual(before.tokens);
      expect(added).toEqual(
        posted ? [expect.objectContaining({ kind: 'CONNECTION', state: 'REVOKED' })] : [],
      );
    }

    it.each(table(STEPS))(
      '%s: %s answers 502 naming the step, stores nothing',
      async (_name, fault, step, steps) => {
        const { response, before, after } = await withFault(peer, fault, step, {}, () =>
          failHandshake(
            () =>
              adminPost('FR*AB3', 'register', { versions_url: peer.versionsUrl, token: TOKEN_A }),
            {
              operation: 'FR*AB3',
              action: 'REGISTER',
              initiatedBy: 'US',
              steps,
              fault: SPEC[fault],
              secrets: () => [TOKEN_A, sentToken(peer, 'POST')],
            },
          ),
        );
        expect502(response, SPEC[fault], step);
        expectNothingButRevokedToken(before, after, step.method === 'POST', SPEC[fault].why);
        const sent = sentToken(peer, 'POST');
        if (sent)
          await ocpi('get', '/ocpi/FR/AB3/versions', sent).then((r) => expect(r.status).toBe(401));
      },
    );

    it.each(CALLBACK_FAULTS)(
      'POST credentials: our call-back fails (%s), the peer answers 3001: 502, nothing stored',
      async (how) => {
        const other = await failCallback(peer, how);
        try {
          const body = { versions_url: peer.versionsUrl, token: TOKEN_A };
          const { response, before, after } = await failHandshake(
            () => adminPost('FR*AB3', 'register', body, other ?? t),
            {
              operation: 'FR*AB3',
              action: 'REGISTER',
              initiatedBy: 'US',
              steps: STEPS,
              fault: CALLBACK_FAILED,
              secrets: () => [TOKEN_A, sentToken(peer, 'POST')],
            },
          );
          expect502(response, CALLBACK_FAILED, credentials('POST'));
          expectNothingButRevokedToken(before, after, true, CALLBACK_FAILED.why);
          expect(peer.callbacks).toEqual([
            how === 'unreachable'
              ? { request: expect.stringMatching(/^GET /), status: 0 }
              : { request: expect.stringMatching(/^GET /), status: 401, statusCode: 2000 },
          ]);
          await ocpi('get', '/ocpi/FR/AB3/versions', sentToken(peer, 'POST')!).then((r) =>
            expect(r.status).toBe(401),
          );
        } finally {
          await other?.close();
        }
      },
    );

    it('registers at the next attempt: no lock left', async () => {
      const response = await adminPost('FR*AB3', 'register', {
        versions_url: peer.versionsUrl,
        token: TOKEN_A,
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'REGISTERED', last_error: null });
    });
  });

  /**
   * A failed ToIOP handshake changes one thing of the operation's connection: last_error, which
   * says why. Operations and every other connection stay as they were; tokens are checked apart.
   */
  function expectLastError(before: Snapshot, after: Snapshot, partyId: string, pattern: RegExp) {
    const operationId = (before.operations.find((o) => o.party_id === partyId) as { id: string })
      .id;
    expect(after.operations).toEqual(before.operations);
    expect(after.connections).toEqual(
      before.connections.map((c) =>
        c.operation_id === operationId
          ? { ...c, last_error: expect.stringMatching(pattern), updated_at: expect.any(String) }
          : c,
      ),
    );
  }

  /** A new operation registered ToIOP with a peer of its own, and the token we sent it. */
  async function registeredWithPeer(operation: string): Promise<{ peer: FakePeer; ours: string }> {
    const peer = await t.startPeer();
    await createOperation(t, operation);
    peer.expectedToken = `iop-token-A-${operation}`;
    const registered = await adminPost(operation, 'register', {
      versions_url: peer.versionsUrl,
      token: peer.expectedToken,
    });
    expect(registered.status).toBe(200);
    return { peer, ours: sentToken(peer, 'POST')! };
  }

  describe('ToIOP update credentials', () => {
    let peer: FakePeer;
    /** The token the peer calls us with, sent in our POST. */
    let ours: string;
    const STEPS = [VERSIONS, DETAILS, credentials('PUT')];

    beforeAll(async () => {
      ({ peer, ours } = await registeredWithPeer('FR*AB4'));
    });
    beforeEach(() => peer.reset());

    /**
     * Before the PUT nothing changes. A failed PUT (DESIGN section 5, two-phase rule) leaves the
     * new token it carried ACTIVE beside the old one, as the peer may hold either, and says so in
     * last_error; nothing else changes.
     */
    function expectTwoPhaseTrace(before: Snapshot, after: Snapshot, put: boolean, why: RegExp) {
      const failed = `^Update of credentials failed \\(.*${why.source}.*\\)`;
      if (!put) return expectLastError(before, after, 'AB4', new RegExp(`${failed}$`));
      expectLastError(before, after, 'AB4', new RegExp(`${failed}.*both stay valid`));
      const { added, kept } = newTokens(before, after);
      expect(kept).toEqual(before.tokens);
      expect(added).toEqual([expect.objectContaining({ kind: 'CONNECTION', state: 'ACTIVE' })]);
    }

    it.each(table(STEPS))(
      '%s: %s answers 502 naming the step; the connection stays',
      async (_name, fault, step, steps) => {
        const peerToken = peer.expectedToken;
        const { response, before, after } = await withFault(
          peer,
          fault,
          step,
          { storedUrl: step === VERSIONS },
          () =>
            failHandshake(() => adminPost('FR*AB4', 'update-credentials'), {
              operation: 'FR*AB4',
              action: 'UPDATE',
              initiatedBy: 'US',
              steps,
              fault: SPEC[fault],
              secrets: () => [peerToken, ours, sentToken(peer, 'PUT')],
            }),
        );
        expect502(response, SPEC[fault], step);
        expectTwoPhaseTrace(before, after, step.method === 'PUT', SPEC[fault].why);
        expect(peer.expectedToken).toBe(peerToken);
        await ocpi('get', '/ocpi/FR/AB4/2.1.1/credentials', ours).then((r) =>
          expect(r.status).toBe(200),
        );
        const sent = sentToken(peer, 'PUT');
        if (sent) {
          await ocpi('get', '/ocpi/FR/AB4/2.1.1/credentials', sent).then((r) =>
            expect(r.status).toBe(200),
          );
        }
      },
    );

    it.each(CALLBACK_FAULTS)(
      'PUT credentials: our call-back fails (%s), the peer answers 3001: 502, both tokens valid',
      async (how) => {
        const other = await failCallback(peer, how);
        try {
          const { response, before, after } = await failHandshake(
            () => adminPost('FR*AB4', 'update-credentials', undefined, other ?? t),
            {
              operation: 'FR*AB4',
              action: 'UPDATE',
              initiatedBy: 'US',
              steps: STEPS,
              fault: CALLBACK_FAILED,
              secrets: () => [peer.expectedToken, ours, sentToken(peer, 'PUT')],
            },
          );
          expect502(response, CALLBACK_FAILED, credentials('PUT'));
          expectTwoPhaseTrace(before, after, true, CALLBACK_FAILED.why);
          await ocpi('get', '/ocpi/FR/AB4/2.1.1/credentials', ours).then((r) =>
            expect(r.status).toBe(200),
          );
        } finally {
          await other?.close();
        }
      },
    );

    it('updates at the next attempt: no lock left, only the newest token of ours opens', async () => {
      const response = await adminPost('FR*AB4', 'update-credentials');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'REGISTERED', last_error: null });
      const newest = sentToken(peer, 'PUT')!;
      await ocpi('get', '/ocpi/FR/AB4/2.1.1/credentials', ours).then((r) =>
        expect(r.status).toBe(401),
      );
      await ocpi('get', '/ocpi/FR/AB4/2.1.1/credentials', newest).then((r) =>
        expect(r.status).toBe(200),
      );
      const active = await db.query(
        `SELECT t.id FROM issued_tokens t JOIN operations o ON o.id = t.operation_id
         WHERE o.party_id = 'AB4' AND t.state <> 'REVOKED'`,
      );
      expect(active).toHaveLength(1);
    });
  });

  describe('ToIOP unregister', () => {
    let peer: FakePeer;
    let ours: string;

    beforeAll(async () => {
      ({ peer, ours } = await registeredWithPeer('FR*AB5'));
    });
    beforeEach(() => peer.reset());

    it.each(table([credentials('DELETE')]))(
      '%s: %s answers 502; still registered, nothing changed',
      async (_name, fault, step, steps) => {
        // The DELETE goes to the credentials URL stored at registration.
        const { response, before, after } = await withFault(
          peer,
          fault,
          step,
          { storedUrl: true },
          () =>
            failHandshake(() => adminPost('FR*AB5', 'unregister'), {
              operation: 'FR*AB5',
              action: 'UNREGISTER',
              initiatedBy: 'US',
              steps,
              fault: SPEC[fault],
              secrets: () => [peer.expectedToken, ours],
            }),
        );
        expect502(response, SPEC[fault], step);
        expect(after).toEqual(before);
        await ocpi('get', '/ocpi/FR/AB5/2.1.1/credentials', ours).then((r) =>
          expect(r.status).toBe(200),
        );
      },
    );

    it('unregisters at the next attempt: no lock left', async () => {
      const response = await adminPost('FR*AB5', 'unregister');
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('UNREGISTERED');
    });
  });
});

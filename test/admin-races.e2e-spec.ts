import { useHarness } from './support/harness.js';
import { createOperation } from './support/ocpi.js';

const ROUNDS = 50;

/**
 * Two admin calls on one operation at once, over many rounds: the one that loses answers 404 or
 * 409, never 500, and nothing is left half-done.
 */
describe('Concurrent admin changes of one operation', () => {
  // A peer that is not there fails a register after the whole peer timeout: a short one.
  const t = useHarness({ app: { peerTimeoutMs: 100 } });
  let round = 0;

  /** A fresh operation per round: FR*Rxx, xx in base 36. */
  const fresh = async () => {
    const operatorId = `FR*R${(round++).toString(36).toUpperCase().padStart(2, '0')}`;
    await createOperation(t, operatorId);
    return operatorId;
  };
  const remove = (operatorId: string) =>
    t.http.delete(`/admin/operations/${operatorId}`).set(t.admin);

  async function race(
    other: (operatorId: string) => PromiseLike<{ status: number }>,
    allowed: number[],
  ) {
    const statuses: number[][] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const operatorId = await fresh();
      const [deleted, changed] = await Promise.all([remove(operatorId), other(operatorId)]);
      statuses.push([deleted.status, changed.status]);
    }
    const unexpected = statuses.filter(
      ([deleted, changed]) => ![204, 404, 409].includes(deleted) || !allowed.includes(changed),
    );
    expect(unexpected).toEqual([]);
    // The operation is gone with everything of it, or there with its connection.
    const orphans = await t.db.query(
      `SELECT (SELECT count(*) FROM connections c WHERE NOT EXISTS (SELECT 1 FROM operations o WHERE o.id = c.operation_id))
            + (SELECT count(*) FROM operations o WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.operation_id = o.id)) AS n`,
    );
    expect(orphans).toEqual([{ n: '0' }]);
    return statuses;
  }

  it('DELETE with PATCH: 200 or 404, never 500', async () => {
    await race(
      (operatorId) =>
        t.http
          .patch(`/admin/operations/${operatorId}`)
          .set(t.admin)
          .send({ business_details: { name: 'Renamed' } }),
      [200, 404],
    );
  });

  it('DELETE with POST registration-tokens: 201 or 404, never a deadlock or a foreign key 500', async () => {
    await race(
      (operatorId) =>
        t.http.post(`/admin/operations/${operatorId}/registration-tokens`).set(t.admin).send({}),
      [201, 404],
    );
    const tokens = await t.db.query(
      'SELECT count(*) AS n FROM issued_tokens t WHERE NOT EXISTS (SELECT 1 FROM operations o WHERE o.id = t.operation_id)',
    );
    expect(tokens).toEqual([{ n: '0' }]);
  });

  it('DELETE with a ToIOP register: 404, 409 or 502 (the peer is not there), never 500', async () => {
    await race(
      (operatorId) =>
        t.http
          .post(`/admin/operations/${operatorId}/register`)
          .set(t.admin)
          .send({ versions_url: 'http://127.0.0.1:9/ocpi/versions', token: 'peer-token-A' }),
      [404, 409, 502],
    );
  });
});

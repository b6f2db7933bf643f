import type { ConfigService } from '@nestjs/config';
import type { Repository } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import type { ConnectionsService } from '../operations/connections.service.js';
import type { Operation } from '../operations/operation.entity.js';
import { AuthCache } from './auth-cache.js';
import type { IssuedToken } from './issued-token.entity.js';
import { TokensService } from './tokens.service.js';

const OPERATOR = { countryCode: 'FR', partyId: 'AB1' };
const operation = { id: 'op1', countryCode: 'FR', partyId: 'AB1' } as Operation;
const ROW = {
  token_id: 't1',
  kind: 'CONNECTION',
  state: 'ACTIVE',
  expires_at: null,
  peer_country_code: null,
  peer_party_id: null,
};

/** TokensService on a fake database whose authentication queries wait for {@link answer}. */
function setUp() {
  let clock = 0;
  const cache = new AuthCache(
    100,
    1_000,
    () => clock,
    () => 0,
  );
  cache.setEnabled(true);
  const pending: (() => void)[] = [];
  let queries = 0;
  const operations = {
    metadata: { columns: [{ propertyName: 'id', databaseName: 'id' }] },
    query: () => {
      queries += 1;
      return new Promise((resolve) => pending.push(() => resolve([{ id: operation.id, ...ROW }])));
    },
    create: (plain: object) => ({ ...operation, ...plain }),
  } as unknown as Repository<Operation>;
  const config = { get: () => 1 } as unknown as ConfigService<AppConfig, true>;
  const service = new TokensService(
    {} as Repository<IssuedToken>,
    operations,
    cache,
    {} as ConnectionsService,
    config,
  );
  return {
    service,
    cache,
    queries: () => queries,
    /** Lets every query sent so far answer. */
    answer: async () => {
      for (const resolve of pending.splice(0)) resolve();
      await new Promise((resolve) => setImmediate(resolve));
    },
    at: (ms: number) => (clock = ms),
  };
}

describe('TokensService.authenticate', () => {
  it('sends one query for many requests of the same operation and token at once', async () => {
    const db = setUp();
    const asked = Array.from({ length: 500 }, () => db.service.authenticate(OPERATOR, 'tok'));
    const other = db.service.authenticate(OPERATOR, 'other');
    expect(db.queries()).toBe(2);
    await db.answer();
    const answers = await Promise.all(asked);
    expect(answers.every((a) => a?.token?.role === 'CONNECTION' && !a.cached)).toBe(true);
    expect((await other)?.token?.value).toBe('other');
    // Stored: the next request costs no query.
    expect((await db.service.authenticate(OPERATOR, 'tok'))?.cached).toBe(true);
    expect(db.queries()).toBe(2);
  });

  it('reads on its own when asked for what the database says now', async () => {
    const db = setUp();
    const shared = db.service.authenticate(OPERATOR, 'tok');
    const fresh = db.service.authenticate(OPERATOR, 'tok', { fresh: true });
    expect(db.queries()).toBe(2);
    await db.answer();
    expect((await fresh)?.cached).toBe(false);
    await shared;
  });

  it('reads an entry near its end again in the background, once, answering from it meanwhile', async () => {
    const db = setUp();
    const first = db.service.authenticate(OPERATOR, 'tok');
    await db.answer();
    await first;
    db.at(800);
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => db.service.authenticate(OPERATOR, 'tok')),
    );
    expect(answers.every((a) => a?.cached)).toBe(true);
    expect(db.queries()).toBe(2);
    await db.answer();
    // Refreshed at 800: good until 1,800, past the first entry's end.
    db.at(1_500);
    expect((await db.service.authenticate(OPERATOR, 'tok'))?.cached).toBe(true);
    expect(db.queries()).toBe(2);
  });
});

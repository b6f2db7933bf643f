import type { Operation } from '../operations/operation.entity.js';
import { AuthCache, JITTER, REFRESH_AHEAD, type CachedAuthentication } from './auth-cache.js';

const found = (operationId: string, tokenId = 't1'): CachedAuthentication => ({
  operation: { id: operationId } as Operation,
  token: { id: tokenId, kind: 'CONNECTION', state: 'ACTIVE', expiresAt: null },
});

describe('AuthCache', () => {
  let clock: number;
  let random: number;
  let cache: AuthCache;
  beforeEach(() => {
    clock = 0;
    random = 0;
    cache = new AuthCache(
      3,
      1_000,
      () => clock,
      () => random,
    );
    cache.setEnabled(true);
  });

  it('keeps what was read and gives it back', () => {
    cache.set('a', found('op1'), cache.mark);
    expect(cache.get('a')).toMatchObject(found('op1'));
    expect(cache.get('b')).toBeUndefined();
  });

  it('keeps nothing while disabled, and forgets everything when switched', () => {
    cache.set('a', found('op1'), cache.mark);
    cache.setEnabled(false);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', found('op1'), cache.mark);
    expect(cache.get('a')).toBeUndefined();
    cache.setEnabled(true);
    expect(cache.get('a')).toBeUndefined();
  });

  it('forgets every entry of an operation on invalidation, and only those', () => {
    cache.set('a', found('op1', 't1'), cache.mark);
    cache.set('b', found('op1', 't2'), cache.mark);
    cache.set('c', found('op2'), cache.mark);
    cache.invalidate('op1');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('forgets everything on the invalidation of *', () => {
    cache.set('a', found('op1'), cache.mark);
    cache.set('b', found('op2'), cache.mark);
    cache.invalidate('*');
    expect(cache.size).toBe(0);
    cache.set('c', found('op3'), cache.mark);
    expect(cache.get('c')).toBeDefined();
  });

  it('does not store a read that an invalidation overtook', () => {
    const mark = cache.mark;
    cache.invalidate('op1');
    cache.set('a', found('op1'), mark);
    expect(cache.get('a')).toBeUndefined();
  });

  it('drops entries older than the maximum age', () => {
    cache.set('a', found('op1'), cache.mark);
    clock = 999;
    expect(cache.get('a')).toBeDefined();
    clock = 1_000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('lets entries stored together expire apart, none past the maximum age', () => {
    random = 1;
    cache.set('a', found('op1'), cache.mark);
    random = 0.5;
    cache.set('b', found('op2'), cache.mark);
    random = 0;
    cache.set('c', found('op3'), cache.mark);
    clock = 1_000 * (1 - JITTER);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    clock = 1_000 * (1 - JITTER / 2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
    clock = 1_000;
    expect(cache.get('c')).toBeUndefined();
  });

  it('evicts the least recently used entry past its capacity', () => {
    cache.set('a', found('op1'), cache.mark);
    cache.set('b', found('op2'), cache.mark);
    cache.set('c', found('op3'), cache.mark);
    cache.get('a');
    cache.set('d', found('op4'), cache.mark);
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    // The evicted entry no longer answers for its operation either.
    cache.invalidate('op2');
    expect(cache.size).toBe(3);
  });

  it('moves an entry a hit finds only once it has left the newest quarter of the order', () => {
    const big = new AuthCache(8, 1_000, () => clock);
    big.setEnabled(true);
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) big.set(key, found(key), big.mark);
    // 'g' and 'h' are among the newest 8 / 4 = 2 entries: a hit leaves them where they are
    // ('g' is not moved behind 'h').
    big.get('h');
    big.get('g');
    // 'a' is the oldest: a hit moves it last, and then 'b' is the first to go.
    big.get('a');
    big.set('i', found('i'), big.mark);
    expect(big.get('b')).toBeUndefined();
    expect(big.get('a')).toBeDefined();
    // After 'c'...'f', 'g' goes before 'h', though it was used after it.
    for (const key of ['j', 'k', 'l', 'm', 'n']) big.set(key, found(key), big.mark);
    expect(big.get('g')).toBeUndefined();
    expect(big.get('h')).toBeDefined();
  });

  it('stores nothing with a capacity of 0', () => {
    const off = new AuthCache(0, 1_000);
    off.setEnabled(true);
    off.set('a', found('op1'), off.mark);
    expect(off.get('a')).toBeUndefined();
  });
});

describe('AuthCache refresh-ahead', () => {
  let clock: number;
  let cache: AuthCache;
  beforeEach(() => {
    clock = 0;
    // random 0: entries live the whole maximum age, 1,000 ms.
    cache = new AuthCache(
      10,
      1_000,
      () => clock,
      () => 0,
    );
    cache.setEnabled(true);
  });

  it('asks the one first lookup near the end of an entry to read it again, still answering', () => {
    cache.set('a', found('op1'), cache.mark);
    clock = 1_000 * (1 - REFRESH_AHEAD) - 1;
    expect(cache.lookup('a')).toMatchObject({ refresh: false });
    clock = 1_000 * (1 - REFRESH_AHEAD);
    expect(cache.lookup('a')).toMatchObject({ value: found('op1'), refresh: true });
    expect(cache.lookup('a')).toMatchObject({ value: found('op1'), refresh: false });
    // The refreshed entry lives its whole age again, from now.
    cache.set('a', found('op1', 't2'), cache.mark);
    clock = 1_400;
    expect(cache.lookup('a')).toMatchObject({ value: found('op1', 't2'), refresh: false });
  });

  it('expires an entry whose refresh did not come back in time', () => {
    cache.set('a', found('op1'), cache.mark);
    clock = 900;
    expect(cache.lookup('a')?.refresh).toBe(true);
    clock = 1_000;
    expect(cache.lookup('a')).toBeUndefined();
  });

  it('does not store a refresh that an invalidation overtook, nor keep what it replaces', () => {
    cache.set('a', found('op1'), cache.mark);
    clock = 800;
    expect(cache.lookup('a')?.refresh).toBe(true);
    const mark = cache.mark;
    cache.invalidate('op1');
    cache.set('a', found('op1'), mark);
    expect(cache.lookup('a')).toBeUndefined();
  });

  it('forgets a key the database no longer has', () => {
    cache.set('a', found('op1'), cache.mark);
    cache.delete('a');
    expect(cache.lookup('a')).toBeUndefined();
    cache.invalidate('op1');
    expect(cache.size).toBe(0);
  });
});

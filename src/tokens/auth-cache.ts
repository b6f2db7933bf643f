import type { Operation } from '../operations/operation.entity.js';
import type { TokenKind, TokenState } from './issued-token.entity.js';

/** A token found in the database for an operation, as the guard needs it. */
export interface CachedToken {
  id: string;
  kind: TokenKind;
  state: TokenState;
  expiresAt: Date | null;
}

export interface CachedAuthentication {
  operation: Operation;
  token: CachedToken;
  /** The registered or last peer's operator id (`FR*GIR`), if any. */
  peer?: string;
}

interface Entry<V> {
  value: V;
  operationId: string;
  /** When it must be read again: `maxAgeMs` after it was stored, less up to {@link JITTER}. */
  expiresAt: number;
  /** From when the first lookup to find it has it read again ahead of its expiry. */
  refreshAt: number;
  refreshing: boolean;
  /** {@link ChangeFollowingCache}'s `stamps` when it was put last in the recency order. */
  stamp: number;
}

/**
 * Entries live between (1 - JITTER) and 1 times `maxAgeMs`, at random: the entries a hub's burst
 * filled in the same second do not all expire in the same second, sending their reads to the
 * database at once (a thousand queries queued behind each other: the tail of GET versions).
 */
export const JITTER = 0.2;

/**
 * The last REFRESH_AHEAD of `maxAgeMs` of an entry's life: the first lookup to find it then is
 * still answered from it, and has it read again in the background (once), so that an entry in
 * use never expires under its callers (whose reads would then queue at once).
 */
export const REFRESH_AHEAD = 0.25;

/** A lookup's answer: the value, and whether this caller is the one to read it again now. */
export interface Found<V> {
  value: V;
  refresh: boolean;
}

/** A cache AuthCacheListener keeps true to the database. */
export interface FollowsChanges {
  invalidate(operationId: string): void;
  setEnabled(enabled: boolean): void;
}

/**
 * What was read about operations, by key, for as long as this replica hears every change:
 * PostgreSQL notifies each update or delete of an operation, its connection or a token (a
 * trigger, so no write path can forget it) and {@link invalidate} drops that operation's entries.
 * While the notification channel is down the cache is off (AuthCacheListener switches it);
 * `maxAgeMs` bounds an entry's life whatever happens (each lives between 80% and 100% of it, so
 * that entries stored together expire apart), and an entry near its end is read again ahead of
 * it ({@link REFRESH_AHEAD}). Least recently used entries go first past `capacity`.
 */
export class ChangeFollowingCache<V> implements FollowsChanges {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly keysByOperation = new Map<string, Set<string>>();
  private enabled = false;
  hits = 0;
  misses = 0;
  /**
   * Moves on every invalidation: a lookup that started before one may have read what it
   * invalidates, so its result is not stored.
   */
  private generation = 0;
  /** Counts the entries put last in the recency order (stored, or moved there by a hit). */
  private stamps = 0;

  constructor(
    readonly capacity: number,
    private readonly maxAgeMs: number,
    private readonly operationOf: (value: V) => string,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** To pass to {@link set} after reading the database. */
  get mark(): number {
    return this.generation;
  }

  get size(): number {
    return this.entries.size;
  }

  get listening(): boolean {
    return this.enabled;
  }

  get(key: string): V | undefined {
    return this.lookup(key)?.value;
  }

  /**
   * The entry of `key` unless expired; `refresh` is true for the first lookup past the entry's
   * refresh time, whose caller reads it again and {@link set}s it (later lookups get false).
   */
  lookup(key: string): Found<V> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses += 1;
      return undefined;
    }
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.remove(key, entry);
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    if (this.stamps - entry.stamp > this.capacity / 4) this.putLast(key, entry);
    const refresh = !entry.refreshing && now >= entry.refreshAt;
    if (refresh) entry.refreshing = true;
    return { value: entry.value, refresh };
  }

  /** Stores what was read, unless an invalidation arrived since `mark` was taken. */
  set(key: string, value: V, mark: number): void {
    if (!this.enabled || mark !== this.generation || this.capacity === 0) return;
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    const now = this.now();
    const expiresAt = now + this.maxAgeMs * (1 - JITTER * this.random());
    const operationId = this.operationOf(value);
    this.entries.set(key, {
      value,
      operationId,
      expiresAt,
      refreshAt: expiresAt - this.maxAgeMs * REFRESH_AHEAD,
      refreshing: false,
      stamp: this.stamps++,
    });
    const keys = this.keysByOperation.get(operationId) ?? new Set<string>();
    keys.add(key);
    this.keysByOperation.set(operationId, keys);
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      this.remove(oldest, entry);
    }
  }

  /** Forgets `key`: the database no longer has what it held. */
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry) this.remove(key, entry);
  }

  /** Something of this operation changed (`*`: of any operation): forget what was read about it. */
  invalidate(operationId: string): void {
    if (operationId === '*') return this.setEnabled(this.enabled);
    this.generation += 1;
    for (const key of this.keysByOperation.get(operationId) ?? []) {
      this.entries.delete(key);
    }
    this.keysByOperation.delete(operationId);
  }

  /** On only while changes are heard; switching either way forgets everything. */
  setEnabled(enabled: boolean): void {
    this.generation += 1;
    this.enabled = enabled;
    this.entries.clear();
    this.keysByOperation.clear();
  }

  /**
   * Most recently used last: eviction takes the Map's first entries. A Map has no move, and a
   * delete and set at every hit made a 100,000-entry Map rebuild itself over and over (GET
   * versions cost 27% more at 100,000 operations than at 10); so a hit moves its entry only when
   * it has fallen out of the newest quarter of the order (by stamp: one per insert or move). An
   * entry used at some point then outlives at least 3/4 of `capacity` inserts after it: least
   * recently used first, to a quarter of the capacity.
   */
  private putLast(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    entry.stamp = this.stamps++;
    this.entries.set(key, entry);
  }

  private remove(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    const keys = this.keysByOperation.get(entry.operationId);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByOperation.delete(entry.operationId);
  }
}

/**
 * The operations and tokens the OCPI guard found, by operation path and token hash (never the
 * token itself), so that a hub's steady traffic costs no query. Only tokens that exist are kept
 * (an unknown token always asks the database).
 */
export class AuthCache extends ChangeFollowingCache<CachedAuthentication> {
  constructor(
    capacity: number,
    maxAgeMs: number,
    now: () => number = Date.now,
    random: () => number = Math.random,
  ) {
    super(capacity, maxAgeMs, (value) => value.operation.id, now, random);
  }

  /** `FRAB1:{SHA-256 of the token, base64}`. */
  static key(countryCode: string, partyId: string, hash: Buffer): string {
    return `${countryCode}${partyId}:${hash.toString('base64')}`;
  }
}

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

interface Entry extends CachedAuthentication {
  /** When it must be read again: `maxAgeMs` after it was stored, less up to {@link JITTER}. */
  expiresAt: number;
}

/**
 * Entries live between (1 - JITTER) and 1 times `maxAgeMs`, at random: the entries a hub's burst
 * filled in the same second do not all expire in the same second, sending their reads to the
 * database at once (a thousand queries queued behind each other: the tail of GET versions).
 */
export const JITTER = 0.2;

/**
 * The operations and tokens the OCPI guard found, by operation path and token hash, so that a
 * hub's steady traffic costs no query. Only tokens that exist are kept (an unknown token always
 * asks the database), and only while this replica hears every change: PostgreSQL notifies each
 * update or delete of an operation or token (a trigger, so no write path can forget it) and
 * {@link invalidate} drops that operation's entries. While the notification channel is down the
 * cache is off; `maxAgeMs` bounds an entry's life whatever happens (each lives between 80% and
 * 100% of it, so that entries stored together expire apart). Least recently used entries go
 * first past `capacity`.
 */
export class AuthCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByOperation = new Map<string, Set<string>>();
  private enabled = false;
  hits = 0;
  misses = 0;
  /**
   * Moves on every invalidation: a lookup that started before one may have read what it
   * invalidates, so its result is not stored.
   */
  private generation = 0;

  constructor(
    readonly capacity: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  static key(countryCode: string, partyId: string, hash: Buffer): string {
    return `${countryCode}${partyId}:${hash.toString('base64')}`;
  }

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

  get(key: string): CachedAuthentication | undefined {
    const entry = this.entries.get(key);
    const stale = entry !== undefined && this.now() >= entry.expiresAt;
    if (entry && stale) this.remove(key, entry);
    if (!entry || stale) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    // Most recently used last: eviction takes the Map's first entries.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Stores what was read, unless an invalidation arrived since `mark` was taken. */
  set(key: string, value: CachedAuthentication, mark: number): void {
    if (!this.enabled || mark !== this.generation || this.capacity === 0) return;
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    const lifetime = this.maxAgeMs * (1 - JITTER * this.random());
    this.entries.set(key, { ...value, expiresAt: this.now() + lifetime });
    const operationId = value.operation.id;
    const keys = this.keysByOperation.get(operationId) ?? new Set<string>();
    keys.add(key);
    this.keysByOperation.set(operationId, keys);
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      this.remove(oldest, entry);
    }
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

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    const keys = this.keysByOperation.get(entry.operation.id);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByOperation.delete(entry.operation.id);
  }
}

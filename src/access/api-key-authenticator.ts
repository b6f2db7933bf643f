import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { hashToken } from '../common/crypto/tokens.js';
import { messageOf } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { ChangeFollowingCache } from '../tokens/auth-cache.js';
import { AuthCacheListener } from '../tokens/auth-cache-listener.js';
import { ApiKey } from './api-key.entity.js';
import { KeyAuthenticator } from '../auth/key-authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { Scope } from '../auth/scopes.js';

/** What every API key starts with, so that secret scanners (and people) recognise one. */
export const API_KEY_PREFIX = 'ocpik_';

/** `last_used_at` is written at most this often per key: not a write per request. */
export const LAST_USED_EVERY_MS = 60_000;

/** A key as the guard needs it: never the key itself. */
interface KnownKey {
  id: string;
  name: string;
  scopes: Scope[];
  organisationId: string | null;
  expiresAt: Date | null;
}

/**
 * Turns a presented API key into its {@link Principal}. The keys found are kept in memory by
 * hash, the way the OCPI token cache keeps tokens and with its bounds (AUTH_CACHE_ENTRIES,
 * AUTH_CACHE_MAX_AGE_S), so that a relay call with a key costs no query; the listener drops a
 * key's entry on every replica when a trigger announces its deletion (revocation) or a change
 * (migration 1764900000000), and the cache is off while changes are not heard. Unknown keys are
 * never kept: each asks the database, and counts as a failed authentication. Expiry is checked
 * on every use.
 */
@Injectable()
export class ApiKeyAuthenticator extends KeyAuthenticator {
  private readonly logger = new Logger('ApiKeys');
  private readonly cache: ChangeFollowingCache<KnownKey>;
  /** When this replica last wrote each key's `last_used_at`. */
  private readonly touched = new Map<string, number>();

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    config: ConfigService<AppConfig, true>,
    listener: AuthCacheListener,
  ) {
    super();
    this.cache = new ChangeFollowingCache<KnownKey>(
      config.get('authCacheEntries', { infer: true }),
      config.get('authCacheMaxAgeS', { infer: true }) * 1000,
      (key) => key.id,
    );
    listener.follow(this.cache);
  }

  /** The principal of a valid, unexpired API key; undefined for anything else. */
  async authenticate(presented: string): Promise<Principal | undefined> {
    if (!presented.startsWith(API_KEY_PREFIX)) return undefined;
    const hash = hashToken(presented);
    const cacheKey = hash.toString('base64');
    const found = this.cache.lookup(cacheKey);
    let key: KnownKey | undefined;
    if (found) {
      key = found.value;
      if (found.refresh) this.read(hash, cacheKey).catch(() => undefined);
    } else {
      key = await this.read(hash, cacheKey);
    }
    if (!key || (key.expiresAt !== null && key.expiresAt.getTime() <= Date.now())) {
      return undefined;
    }
    this.touch(key.id);
    return {
      kind: 'key',
      keyId: key.id,
      name: key.name,
      scopes: key.scopes,
      ...(key.organisationId !== null && { organisationId: key.organisationId }),
    };
  }

  /** Drops what this replica holds of a key (the others hear of it from the trigger). */
  forget(keyId: string): void {
    this.cache.invalidate(keyId);
  }

  private async read(hash: Buffer, cacheKey: string): Promise<KnownKey | undefined> {
    const mark = this.cache.mark;
    const row = await this.keys.findOne({
      where: { keyHash: hash },
      select: { id: true, name: true, scopes: true, organisationId: true, expiresAt: true },
    });
    if (!row) {
      this.cache.delete(cacheKey);
      return undefined;
    }
    const key: KnownKey = {
      id: row.id,
      name: row.name,
      scopes: row.scopes,
      organisationId: row.organisationId,
      expiresAt: row.expiresAt,
    };
    this.cache.set(cacheKey, key, mark);
    return key;
  }

  /**
   * Records the use, at most once a minute per key on this replica, and once a minute across
   * replicas (the condition): in the background, never delaying the request.
   */
  private touch(id: string): void {
    const now = Date.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < LAST_USED_EVERY_MS) return;
    // Bounded by the number of keys in use; forgetting only costs one early write each.
    if (this.touched.size >= 10_000) this.touched.clear();
    this.touched.set(id, now);
    this.keys
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere(
        '(last_used_at IS NULL OR last_used_at < now() - make_interval(secs => :seconds))',
        { seconds: LAST_USED_EVERY_MS / 1000 },
      )
      .execute()
      .catch((error: unknown) =>
        this.logger.warn(`last_used_at of key ${id} not written: ${messageOf(error)}`),
      );
  }
}

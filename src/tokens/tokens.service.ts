import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository, type EntityManager } from 'typeorm';
import { generateToken, hashToken } from '../common/crypto/tokens.js';
import { ConflictError } from '../common/errors.js';
import { ConnectionsService } from '../operations/connections.service.js';
import { Operation } from '../operations/operation.entity.js';
import { formatOperatorId, type OperatorId } from '../operations/operator-id.js';
import { AuthCache, type CachedAuthentication } from './auth-cache.js';
import { IssuedToken, type TokenKind, type TokenState } from './issued-token.entity.js';
import { SingleFlight } from './single-flight.js';
import { roleOf, type TokenRole } from './token-access.js';

export interface PresentedToken {
  id: string;
  role: TokenRole;
  /** The token as presented: GET credentials echoes it, as we keep only its hash. */
  value: string;
}

export interface Authentication {
  operation: Operation;
  /** Absent when the token is unknown, revoked, expired or another operation's. */
  token?: PresentedToken;
  /** The peer's operator id (`FR*GIR`) once one registered (the last one after it left). */
  peer?: string;
}

/** What one query found: the operation, and the token when it is one of the operation's. */
type Read = Partial<CachedAuthentication> & Pick<CachedAuthentication, 'operation'>;

/** A row of {@link TokensService}'s authentication query: the operation's columns, and these. */
interface AuthenticationRow {
  token_id: string | null;
  kind: TokenKind | null;
  state: TokenState | null;
  expires_at: Date | null;
  peer_country_code: string | null;
  peer_party_id: string | null;
}

/** Issues and checks the tokens peers present to us. Only hashes are stored. */
@Injectable()
export class TokensService {
  private readonly registrationTokenTtlS: number;
  private readonly maxActiveRegistrationTokens: number;
  /** The queries of {@link authenticate} under way, by operation and token hash. */
  private readonly reads = new SingleFlight<Read | undefined>();
  /** {@link read}'s query: $1 country code, $2 party id, $3 token hash. */
  private readonly authenticationSql: string;

  constructor(
    @InjectRepository(IssuedToken) private readonly tokens: Repository<IssuedToken>,
    @InjectRepository(Operation) private readonly operations: Repository<Operation>,
    private readonly cache: AuthCache,
    private readonly connections: ConnectionsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.registrationTokenTtlS = config.get('registrationTokenTtlS', { infer: true });
    this.maxActiveRegistrationTokens = config.get('maxActiveRegistrationTokens', { infer: true });
    // Written once rather than built by the query builder at each read: building the query and
    // the entity from its raw row cost 240 µs of CPU per read against 100 for this (a cache of
    // 1,000 tokens in use reads each again every 20-30 s). The operation's columns come from its
    // entity, so that one added later is read too.
    this.authenticationSql = `
      SELECT ${operations.metadata.columns.map((c) => `o.${c.databaseName}`).join(', ')},
             t.id AS token_id, t.kind, t.state, t.expires_at,
             c.peer_country_code, c.peer_party_id
      FROM operations o
      LEFT JOIN issued_tokens t ON t.operation_id = o.id AND t.hash = $3
      LEFT JOIN connections c ON c.operation_id = o.id
      WHERE o.country_code = $1 AND o.party_id = $2`;
  }

  /**
   * Resolves the operation of an OCPI path and the token presented on it: from the cache (unless
   * `fresh`; `cached` says so, as the cache may be milliseconds behind a change), or in one query
   * that looks the token up by hash through its unique index, only within that operation. Requests
   * for the same operation and token while that query runs wait for its answer rather than send
   * their own (but a `fresh` one reads on its own: it must see what is committed now). An entry
   * near its end of life is read again in the background while it still answers.
   */
  async authenticate(
    operator: OperatorId,
    presented: string | undefined,
    { fresh = false } = {},
  ): Promise<(Authentication & { cached: boolean }) | undefined> {
    const hash = presented === undefined ? null : hashToken(presented);
    // Without a token: a key of its own, for the single flight only (nothing is cached for it).
    const key = hash
      ? AuthCache.key(operator.countryCode, operator.partyId, hash)
      : `${operator.countryCode}${operator.partyId}:`;
    if (hash && !fresh) {
      const cached = this.cache.lookup(key);
      if (cached) {
        if (cached.refresh) {
          // A failed refresh leaves the entry to expire; the next lookup after it reads again.
          this.reads.run(key, () => this.read(operator, hash, key)).catch(() => undefined);
        }
        return authentication(cached.value, presented, true);
      }
    }
    const found = await (fresh
      ? this.read(operator, hash, key)
      : this.reads.run(key, () => this.read(operator, hash, key)));
    return found && authentication(found, presented, false);
  }

  /** One query for {@link authenticate}; what it finds of a token that exists goes in the cache. */
  private async read(
    operator: OperatorId,
    hash: Buffer | null,
    key: string,
  ): Promise<Read | undefined> {
    const mark = this.cache.mark;
    const [row] = await this.operations.query<(AuthenticationRow & Record<string, unknown>)[]>(
      this.authenticationSql,
      [operator.countryCode, operator.partyId, hash],
    );
    if (!row) {
      if (hash) this.cache.delete(key);
      return undefined;
    }
    const operation = this.operations.create(
      Object.fromEntries(
        this.operations.metadata.columns.map((c) => [c.propertyName, row[c.databaseName]]),
      ),
    );
    const token =
      row.token_id && row.kind && row.state
        ? { id: row.token_id, kind: row.kind, state: row.state, expiresAt: row.expires_at }
        : undefined;
    const peer =
      row.peer_country_code && row.peer_party_id
        ? formatOperatorId({ countryCode: row.peer_country_code, partyId: row.peer_party_id })
        : undefined;
    if (hash && token) this.cache.set(key, { operation, token, peer }, mark);
    else if (hash) this.cache.delete(key);
    return { operation, token, peer };
  }

  /**
   * A token A for the peer to register with, living `expiresInS` or REGISTRATION_TOKEN_TTL_S;
   * refused while the operation is registered, or holds MAX_ACTIVE_REGISTRATION_TOKENS already.
   */
  async issueRegistrationToken(
    operation: Operation,
    expiresInS: number | null | undefined,
  ): Promise<{ token: string; expiresAt: Date }> {
    const operationId = operation.id;
    return this.tokens.manager.transaction(async (manager) => {
      // Locked against a registration finishing, and another token A being issued, meanwhile.
      if ((await this.connections.lockStatus(manager, operationId)) === 'REGISTERED') {
        throw new ConflictError(
          'The operation is registered: unregister it before issuing a token A',
        );
      }
      const active = await manager
        .createQueryBuilder(IssuedToken, 't')
        .where("t.operation_id = :operationId AND t.kind = 'REGISTRATION'", { operationId })
        .andWhere("t.state = 'ACTIVE' AND (t.expires_at IS NULL OR t.expires_at > now())")
        .getCount();
      if (active >= this.maxActiveRegistrationTokens) {
        throw new ConflictError(
          `Operation ${formatOperatorId(operation)} has ${active} unexpired tokens A, the most MAX_ACTIVE_REGISTRATION_TOKENS allows: hand out one of them, or issue a new one once one expires or a registration succeeds`,
        );
      }
      const token = generateToken();
      const expiresAt = new Date(Date.now() + (expiresInS ?? this.registrationTokenTtlS) * 1000);
      await manager.insert(IssuedToken, {
        operationId,
        hash: hashToken(token),
        kind: 'REGISTRATION',
        state: 'ACTIVE',
        expiresAt,
      });
      return { token, expiresAt };
    });
  }

  /** A new connection token; PENDING ones open only the call-back routes until activated. */
  async issueConnectionToken(
    manager: EntityManager,
    operationId: string,
    state: 'ACTIVE' | 'PENDING' = 'ACTIVE',
  ): Promise<{ id: string; token: string }> {
    const token = generateToken();
    const result = await manager.insert(IssuedToken, {
      operationId,
      hash: hashToken(token),
      kind: 'CONNECTION',
      state,
      expiresAt: null,
    });
    return { id: (result.identifiers[0] as { id: string }).id, token };
  }

  /** Whether a token still has the role it had when the request came in (re-checked under lock). */
  async stillHasRole(manager: EntityManager, token: PresentedToken): Promise<boolean> {
    const row = await manager
      .createQueryBuilder(IssuedToken, 't')
      .select(['t.kind AS kind', 't.state AS state'])
      .addSelect('t.expires_at IS NOT NULL AND t.expires_at <= now()', 'expired')
      .where('t.id = :id', { id: token.id })
      .getRawOne<{ kind: TokenKind; state: TokenState; expired: boolean }>();
    return row !== undefined && roleOf(row.kind, row.state, row.expired) === token.role;
  }

  /**
   * After a registration or an update: the new connection token is the only one left (token A,
   * older connection tokens, pending and grace tokens are all revoked).
   */
  async keepOnly(manager: EntityManager, operationId: string, keptTokenId: string): Promise<void> {
    // One statement for both (a round trip less in every handshake that connects).
    await manager
      .createQueryBuilder()
      .update(IssuedToken)
      .set({ state: () => "CASE WHEN id = :keptTokenId THEN 'ACTIVE' ELSE 'REVOKED' END" })
      .where("operation_id = :operationId AND (id = :keptTokenId OR state <> 'REVOKED')", {
        operationId,
        keptTokenId,
      })
      .execute();
  }

  /**
   * After the peer's DELETE: its connection token may still re-register during the grace period;
   * every other connection token is revoked.
   */
  async endConnection(
    manager: EntityManager,
    operationId: string,
    graceTokenId: string | undefined,
    graceS: number,
  ): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(IssuedToken)
      .set({ state: 'REVOKED' })
      .where('operation_id = :operationId AND kind = :kind AND state IN (:...live)', {
        operationId,
        kind: 'CONNECTION',
        live: ['ACTIVE', 'PENDING'],
      })
      .execute();
    if (graceTokenId && graceS > 0) {
      await manager.update(
        IssuedToken,
        { id: graceTokenId },
        {
          state: 'REREGISTER_ONLY',
          expiresAt: new Date(Date.now() + graceS * 1000),
        },
      );
    }
  }

  /** Deletes tokens dead (revoked or expired) and issued more than `days` ago; returns how many. */
  async purgeDead(days: number): Promise<number> {
    const result = await this.tokens
      .createQueryBuilder()
      .delete()
      .where("(state = 'REVOKED' OR expires_at <= now())")
      .andWhere('created_at < now() - make_interval(days => :days)', { days })
      .execute();
    return result.affected ?? 0;
  }

  /** Revokes tokens by id, e.g. a pending token after a failed ToIOP POST. */
  async revoke(manager: EntityManager, ids: string[]): Promise<void> {
    if (ids.length > 0) await manager.update(IssuedToken, { id: In(ids) }, { state: 'REVOKED' });
  }
}

/** What a token found for the operation may do now (none once expired). */
function authentication(
  { operation, token, peer }: Read,
  presented: string | undefined,
  cached: boolean,
): Authentication & { cached: boolean } {
  const expired = token?.expiresAt ? token.expiresAt.getTime() <= Date.now() : false;
  const role = token && roleOf(token.kind, token.state, expired);
  return {
    operation,
    token: role && presented !== undefined ? { id: token.id, role, value: presented } : undefined,
    peer,
    cached,
  };
}

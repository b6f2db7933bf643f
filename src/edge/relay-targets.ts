import { Injectable, type PipeTransform } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { OperationParam, sees, type OperationRequest } from '../auth/principal.js';
import { NotFoundError } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { ConnectionsService } from '../operations/connections.service.js';
import type { Operation } from '../operations/operation.entity.js';
import { OperationsService, parseOperationRef } from '../operations/operations.service.js';
import { ChangeFollowingCache } from '../tokens/auth-cache.js';
import { AuthCacheListener } from '../tokens/auth-cache-listener.js';
import { SingleFlight } from '../tokens/single-flight.js';

/** What a call through the relay needs of its operation. */
export interface RelayTarget {
  /** With its connection: its status, the peer's endpoints. */
  operation: Operation;
  /** The token the peer gave us, decrypted; none while not registered. */
  token?: string;
  /** Read from this replica's memory, which may be milliseconds behind a change. */
  cached?: boolean;
}

/** One key per operation however its reference is spelled (`FR*AB1`, `frab1`), or its id. */
function keyOf(ref: string): string | undefined {
  const named = parseOperationRef(ref);
  if (!named) return undefined;
  return 'id' in named ? named.id : `${named.countryCode}${named.partyId}`;
}

/**
 * The relay's operations with their connection and the peer's token, decrypted, kept in memory
 * by operation reference so that a call costs no query (two without: the operation with its
 * connection, then the sealed token). Kept true as the token cache is (AuthCacheListener): a
 * trigger notifies every change of an operation or its connection, which drops its entries on
 * every replica, so that a new peer token is used at once everywhere; off while changes are not
 * heard; AUTH_CACHE_ENTRIES entries at most, each living up to AUTH_CACHE_MAX_AGE_S and read again
 * ahead of its end while in use. Reads of the same operation at once are one read.
 */
@Injectable()
export class RelayTargets {
  private readonly cache: ChangeFollowingCache<RelayTarget>;
  private readonly reads = new SingleFlight<RelayTarget>();

  constructor(
    config: ConfigService<AppConfig, true>,
    listener: AuthCacheListener,
    private readonly operations: OperationsService,
    private readonly connections: ConnectionsService,
  ) {
    this.cache = new ChangeFollowingCache<RelayTarget>(
      config.get('authCacheEntries', { infer: true }),
      config.get('authCacheMaxAgeS', { infer: true }) * 1000,
      (target) => target.operation.id,
    );
    listener.follow(this.cache);
  }

  /**
   * The operation `ref` names (404 if none), its connection and the peer's token: from memory
   * unless `fresh` (then as the database says now).
   */
  async resolve(ref: string, { fresh = false } = {}): Promise<RelayTarget> {
    const key = keyOf(ref);
    if (key === undefined || fresh) return this.read(ref, key);
    const found = this.cache.lookup(key);
    if (found) {
      if (found.refresh) this.reads.run(key, () => this.read(ref, key)).catch(() => undefined);
      return found.value;
    }
    return this.reads.run(key, () => this.read(ref, key));
  }

  /**
   * {@link resolve} for a caller: 404 also when the operation is another organisation's than the
   * caller's key's (as if it did not exist).
   */
  async resolveFor(
    { ref, principal }: OperationRequest,
    options: { fresh?: boolean } = {},
  ): Promise<RelayTarget> {
    const target = await this.resolve(ref, options);
    if (!sees(principal, target.operation)) throw new NotFoundError(`No operation ${ref}`);
    return target;
  }

  private async read(ref: string, key: string | undefined): Promise<RelayTarget> {
    const mark = this.cache.mark;
    const operation = await this.operations.resolve(ref);
    const token =
      operation.connection.status === 'REGISTERED'
        ? await this.connections.peerToken(operation.id)
        : undefined;
    // Stored as it will be found (cached), so that a hit copies nothing.
    if (key !== undefined) this.cache.set(key, { operation, token, cached: true }, mark);
    return { operation, token };
  }
}

/**
 * Turns the `{operation}` of a relay path into its {@link RelayTarget}: 404 if none, or if it is
 * another organisation's than the caller's key's (as if it did not exist). The organisation is
 * checked on what the cache holds: an operation moved to another organisation is notified like
 * any change of it, and its entries dropped.
 */
@Injectable()
export class RelayTargetPipe implements PipeTransform<OperationRequest, Promise<RelayTarget>> {
  constructor(private readonly targets: RelayTargets) {}

  transform(call: OperationRequest): Promise<RelayTarget> {
    return this.targets.resolveFor(call);
  }
}

/** The operation named by the `{operation}` path parameter of a relay route, as a target. */
export const RelayTargetRef = (): ParameterDecorator => OperationParam(RelayTargetPipe);

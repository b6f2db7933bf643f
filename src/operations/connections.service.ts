import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, type EntityManager } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box.js';
import { NotFoundError } from '../common/errors.js';
import type { BusinessDetailsDto } from '../ocpi/dto/business-details.dto.js';
import type { EndpointDto } from '../ocpi/dto/endpoint.dto.js';
import { Connection, type ConnectionStatus, type Initiator } from './connection.entity.js';
import type { Operation } from './operation.entity.js';
import { formatOperatorId } from './operator-id.js';

/** What a peer told us about itself in its credentials, plus what its version details list. */
export interface PeerDescription {
  versionsUrl: string;
  countryCode: string;
  partyId: string;
  businessDetails: BusinessDetailsDto;
  /** The token we present to the peer from now on. */
  token: string;
  version: string;
  /** The peer's modules; they replace the stored ones, never merged. */
  endpoints: EndpointDto[];
}

/**
 * A connection's health as a new registration, or the end of one, leaves it: UNKNOWN, nothing
 * checked, no probe under way. The health of the connection before is not this one's.
 */
const NO_HEALTH = {
  healthStatus: 'UNKNOWN',
  healthCheckedAt: null,
  healthLastUpAt: null,
  healthConsecutiveFailures: 0,
  healthError: null,
  probingUntil: null,
} as const;

/**
 * The one writer of the connections table's state: the state changes of a connection, each
 * taking the manager of the handshake's transaction, and the token we present to the peer
 * (sealed at rest). Its health is written by ConnectionHealthService (health-probe/); a new
 * registration and an ended connection reset it here, in the handshake's transaction.
 */
@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger('Connections');

  constructor(
    @InjectRepository(Connection) private readonly connections: Repository<Connection>,
    private readonly secrets: SecretBox,
  ) {}

  get(operationId: string, manager: EntityManager = this.connections.manager): Promise<Connection> {
    return manager.findOneByOrFail(Connection, { operationId });
  }

  /**
   * The status, read under share locks held until the caller's transaction ends: on the operation
   * (no concurrent DELETE of it; 404 once it is gone) and then on its connection (no handshake
   * registers it meanwhile). Operation first, connection second: the order a DELETE takes them in
   * (the row, then its cascade), so that the two wait for each other instead of deadlocking.
   */
  async lockStatus(manager: EntityManager, operationId: string): Promise<ConnectionStatus> {
    const [operation] = await manager.query<{ id: string }[]>(
      'SELECT id FROM operations WHERE id = $1 FOR KEY SHARE',
      [operationId],
    );
    if (!operation) throw new NotFoundError('The operation was deleted meanwhile');
    const connection = await manager.findOne(Connection, {
      where: { operationId },
      lock: { mode: 'pessimistic_read' },
    });
    return connection?.status ?? 'UNREGISTERED';
  }

  /** The token we present to the peer; undefined when we hold none. */
  async peerToken(
    operationId: string,
    manager: EntityManager = this.connections.manager,
  ): Promise<string | undefined> {
    const row = await manager
      .createQueryBuilder(Connection, 'c')
      .select('c.peerTokenEncrypted')
      .where('c.operation_id = :operationId', { operationId })
      .getOne();
    return row?.peerTokenEncrypted
      ? this.secrets.open(row.peerTokenEncrypted, operationId)
      : undefined;
  }

  /**
   * The peer token of a registered operation, for the CPO's other systems. Audited without its
   * value.
   */
  async handOutPeerToken(operation: Operation): Promise<string> {
    const token =
      operation.connection.status === 'REGISTERED' ? await this.peerToken(operation.id) : undefined;
    if (!token) throw new NotFoundError('The operation is not registered: there is no peer token');
    this.logger.log(`Peer token of operation ${formatOperatorId(operation)} handed out`);
    return token;
  }

  /**
   * Registered (`registration` says who started it; its health starts UNKNOWN), or updated
   * (`registration` null: who started it and when, and its health, stay). The peer's endpoints
   * are replaced, never merged.
   */
  async markRegistered(
    manager: EntityManager,
    operationId: string,
    peer: PeerDescription,
    registration: { initiatedBy: Initiator } | null,
  ): Promise<void> {
    await manager.update(
      Connection,
      { operationId },
      {
        status: 'REGISTERED',
        version: peer.version,
        peerVersionsUrl: peer.versionsUrl,
        peerCountryCode: peer.countryCode.toUpperCase(),
        peerPartyId: peer.partyId.toUpperCase(),
        peerBusinessDetails: peer.businessDetails,
        peerEndpoints: peer.endpoints,
        peerTokenEncrypted: this.secrets.seal(peer.token, operationId),
        ...(registration && {
          initiatedBy: registration.initiatedBy,
          registeredAt: new Date(),
          unregisteredAt: null,
          unregisteredBy: null,
          ...NO_HEALTH,
          // Due at once for the prober, which gives it a time spread over its interval.
          probeDueAt: () => "'-infinity'",
        }),
        lastError: null,
      },
    );
  }

  /**
   * Ends the connection. The peer's description stays, shown as the last peer; its token stays
   * (encrypted) only when we may use it again to re-register: after our own unregister, not after
   * the peer's DELETE. Its health goes back to UNKNOWN, and it is probed no more.
   */
  async markUnregistered(
    manager: EntityManager,
    operationId: string,
    endedBy: Initiator,
  ): Promise<void> {
    await manager.update(
      Connection,
      { operationId },
      {
        status: 'UNREGISTERED',
        unregisteredAt: new Date(),
        unregisteredBy: endedBy,
        ...(endedBy === 'PEER' && { peerTokenEncrypted: null }),
        lastError: null,
        ...NO_HEALTH,
        probeDueAt: null,
      },
    );
  }

  /** Says what is unsettled about the connection, without changing its state. */
  async setLastError(
    manager: EntityManager,
    operationId: string,
    lastError: string,
  ): Promise<void> {
    await manager.update(Connection, { operationId }, { lastError });
  }
}

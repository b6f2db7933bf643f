import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, type EntityManager } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { BusinessDetailsDto } from '../ocpi/dto/business-details.dto.js';
import { Connection, type Initiator } from './connection.entity.js';
import type { PeerVersion } from './peer-discovery.js';

/** What a peer told us about itself in its credentials, plus what we discovered. */
export interface PeerDescription {
  versionsUrl: string;
  countryCode: string;
  partyId: string;
  businessDetails: BusinessDetailsDto;
  /** The token we present to the peer from now on. */
  token: string;
  discovered: PeerVersion;
}

/** The state changes of a connection; each takes the manager of the handshake's transaction. */
@Injectable()
export class ConnectionsService {
  constructor(
    @InjectRepository(Connection) private readonly connections: Repository<Connection>,
    private readonly secrets: SecretBox,
  ) {}

  get(operationId: string, manager: EntityManager = this.connections.manager): Promise<Connection> {
    return manager.findOneByOrFail(Connection, { operationId });
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
   * Registered (`registration` says who started it), or updated (`registration` null: who
   * started it and when stay). The peer's endpoints are replaced, never merged.
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
        version: peer.discovered.version,
        peerVersionsUrl: peer.versionsUrl,
        peerCountryCode: peer.countryCode.toUpperCase(),
        peerPartyId: peer.partyId.toUpperCase(),
        peerBusinessDetails: peer.businessDetails,
        peerEndpoints: peer.discovered.endpoints,
        peerTokenEncrypted: this.secrets.seal(peer.token, operationId),
        ...(registration && { initiatedBy: registration.initiatedBy, registeredAt: new Date() }),
        lastError: null,
      },
    );
  }

  /**
   * Ends the connection. The peer's description stays for the admin to read; its token stays
   * (encrypted) only when we may use it again to re-register (after our own unregister).
   */
  async markUnregistered(
    manager: EntityManager,
    operationId: string,
    keepPeerToken: boolean,
  ): Promise<void> {
    await manager.update(
      Connection,
      { operationId },
      {
        status: 'UNREGISTERED',
        ...(!keepPeerToken && { peerTokenEncrypted: null }),
        lastError: null,
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

import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import type { Initiator } from '../operations/connection.entity.js';
import { ConnectionsService, type PeerDescription } from '../operations/connections.service.js';
import { TokensService } from '../tokens/tokens.service.js';
import { WebhookEvents } from '../webhooks/webhook-events.js';

/** A connection token of ours, as issued: the peer is to present it to us. */
export interface OurToken {
  id: string;
  token: string;
}

/**
 * The transitions of a connection, the same whichever side started the handshake. Each changes
 * the connection and our tokens, and writes its connection event for the webhooks, in one
 * transaction of the handshake's manager, so that an interrupted handshake leaves nothing
 * half-written (and no event of a change that did not happen).
 */
@Injectable()
export class ConnectionLifecycle {
  private readonly graceS: number;

  constructor(
    private readonly connections: ConnectionsService,
    private readonly tokens: TokensService,
    private readonly events: WebhookEvents,
    config: ConfigService<AppConfig, true>,
  ) {
    this.graceS = config.get('reregistrationGraceS', { infer: true });
  }

  /**
   * The peer is connected (`registration` says who registered it) or its connection updated
   * (`registration` null): its description and endpoints are stored, the token we present to it
   * replaced, and `ours` becomes the only token of the operation (token A, older, pending and
   * grace tokens are revoked). Without `ours`, a new connection token is issued for the answer.
   */
  connect(
    manager: EntityManager,
    operationId: string,
    peer: PeerDescription,
    registration: { initiatedBy: Initiator } | null,
    ours?: OurToken,
  ): Promise<OurToken> {
    return manager.transaction(async (tx) => {
      const kept = ours ?? (await this.tokens.issueConnectionToken(tx, operationId));
      await this.connections.markRegistered(tx, operationId, peer, registration);
      await this.tokens.keepOnly(tx, operationId, kept.id);
      await this.events.connectionChanged(
        tx,
        operationId,
        registration ? 'connection.registered' : 'connection.updated',
      );
      return kept;
    });
  }

  /**
   * The connection ends. After the peer's DELETE, the token it used may re-register for
   * REREGISTRATION_GRACE_S (GIREVE updates by DELETE then POST) and the peer's token is dropped;
   * after ours, the peer's token is kept so that `register` with no body can re-register.
   */
  end(
    manager: EntityManager,
    operationId: string,
    endedBy: { initiatedBy: 'PEER'; presentedTokenId: string } | { initiatedBy: 'US' },
  ): Promise<void> {
    return manager.transaction(async (tx) => {
      const byPeer = endedBy.initiatedBy === 'PEER';
      await this.connections.markUnregistered(tx, operationId, endedBy.initiatedBy);
      await this.tokens.endConnection(
        tx,
        operationId,
        byPeer ? endedBy.presentedTokenId : undefined,
        byPeer ? this.graceS : 0,
      );
      await this.events.connectionChanged(tx, operationId, 'connection.unregistered');
    });
  }
}

import { ApiNullableEnum, ApiNullableRef } from '../../common/api-nullable.js';
import { BusinessDetailsDto } from '../../ocpi/dto/business-details.dto.js';
import { EndpointDto } from '../../ocpi/dto/endpoint.dto.js';
import { ApiProperty } from '@nestjs/swagger';
import {
  HEALTH_STATUSES,
  INITIATORS,
  type Connection,
  type ConnectionStatus,
  type HealthStatus,
  type Initiator,
} from '../connection.entity.js';

/** The other side of the connection, as it described itself in its credentials. */
export class PeerDto {
  /** The peer's OCPI versions URL. */
  versions_url!: string;
  country_code!: string | null;
  party_id!: string | null;
  @ApiNullableRef(() => BusinessDetailsDto)
  business_details!: BusinessDetailsDto | null;
}

/** The peer of a connection that has ended: history, not a connected peer. */
export class LastPeerDto extends PeerDto {
  /** Who ended the connection: the peer (its DELETE) or we (unregister). */
  @ApiNullableEnum(INITIATORS)
  unregistered_by!: Initiator | null;
}

/**
 * Whether the peer still talks with us on this connection, as the last probe found (GET the
 * peer's versions with its token, every HEALTH_PROBE_INTERVAL_S, or POST …/connection/probe).
 */
export class ConnectionHealthDto {
  /**
   * UNKNOWN: not probed since this registration (or not registered). UP: the peer answered 2xx
   * with status_code 1000. REJECTED: it answered 401 or 403, it no longer accepts our token
   * (register again). DOWN: anything else (unreachable, slow, an error answer).
   */
  @ApiProperty({ enum: HEALTH_STATUSES })
  status!: HealthStatus;
  /** When the last probe of this registration ended; null before the first. */
  checked_at!: Date | null;
  /** When a probe of this registration last found it UP; null if none did. */
  last_up_at!: Date | null;
  /** Probes in a row that did not find it UP (0 once one does). */
  consecutive_failures!: number;
  /** What the last probe that failed found, when the last probe failed; null otherwise. */
  error!: string | null;
}

/** An operation's OCPI connection with its peer. Never carries a token. */
export class ConnectionDto {
  status!: ConnectionStatus;
  /** Who started the current (or last) registration; null when never registered. */
  @ApiNullableEnum(INITIATORS)
  initiated_by!: Initiator | null;
  /** The OCPI version in use: `2.1.1` once registered. */
  version!: string | null;
  /** The connected peer; null unless REGISTERED. */
  @ApiNullableRef(() => PeerDto)
  peer!: PeerDto | null;
  /** The connected peer's modules, from its version details; replaced at every register and update. */
  peer_endpoints!: EndpointDto[];
  registered_at!: Date | null;
  /** When the last connection ended; null while registered or never registered. */
  unregistered_at!: Date | null;
  /** The peer of the connection that ended, while UNREGISTERED; null otherwise. */
  @ApiNullableRef(() => LastPeerDto)
  last_peer!: LastPeerDto | null;
  updated_at!: Date;
  /** What went wrong in the last handshake that did not fully succeed, if anything. */
  last_error!: string | null;
  health!: ConnectionHealthDto;
}

export function toHealthDto(connection: Connection): ConnectionHealthDto {
  return {
    status: connection.healthStatus,
    checked_at: connection.healthCheckedAt,
    last_up_at: connection.healthLastUpAt,
    consecutive_failures: connection.healthConsecutiveFailures,
    error: connection.healthError,
  };
}

export function toConnectionDto(connection: Connection): ConnectionDto {
  const registered = connection.status === 'REGISTERED';
  const peer = connection.peerVersionsUrl
    ? {
        versions_url: connection.peerVersionsUrl,
        country_code: connection.peerCountryCode,
        party_id: connection.peerPartyId,
        business_details: connection.peerBusinessDetails,
      }
    : null;
  return {
    status: connection.status,
    initiated_by: connection.initiatedBy,
    version: connection.version,
    peer: registered ? peer : null,
    peer_endpoints: registered ? connection.peerEndpoints : [],
    registered_at: connection.registeredAt,
    unregistered_at: connection.unregisteredAt,
    last_peer: !registered && peer ? { ...peer, unregistered_by: connection.unregisteredBy } : null,
    updated_at: connection.updatedAt,
    last_error: connection.lastError,
    health: toHealthDto(connection),
  };
}

/** The token we present to the peer. */
export class PeerTokenDto {
  token!: string;
}

import { BusinessDetailsDto } from '../../ocpi/dto/business-details.dto.js';
import { EndpointDto } from '../../ocpi/dto/endpoint.dto.js';
import type { Connection, ConnectionStatus, Initiator } from '../connection.entity.js';

/** The other side of the connection, as it described itself in its credentials. */
export class PeerDto {
  /** The peer's OCPI versions URL. */
  versions_url!: string | null;
  country_code!: string | null;
  party_id!: string | null;
  business_details!: BusinessDetailsDto | null;
}

/** An operation's OCPI connection with its peer. Never carries a token. */
export class ConnectionDto {
  status!: ConnectionStatus;
  /** Who started the current (or last) registration; null when never registered. */
  initiated_by!: Initiator | null;
  /** The OCPI version in use: `2.1.1` once registered. */
  version!: string | null;
  /** Null until a peer has registered. */
  peer!: PeerDto | null;
  /** The peer's modules, from its version details; replaced at every register and update. */
  peer_endpoints!: EndpointDto[];
  registered_at!: Date | null;
  updated_at!: Date;
  /** What went wrong in the last handshake that did not fully succeed, if anything. */
  last_error!: string | null;
}

export function toConnectionDto(connection: Connection): ConnectionDto {
  return {
    status: connection.status,
    initiated_by: connection.initiatedBy,
    version: connection.version,
    peer: connection.peerVersionsUrl
      ? {
          versions_url: connection.peerVersionsUrl,
          country_code: connection.peerCountryCode,
          party_id: connection.peerPartyId,
          business_details: connection.peerBusinessDetails,
        }
      : null,
    peer_endpoints: connection.peerEndpoints,
    registered_at: connection.registeredAt,
    updated_at: connection.updatedAt,
    last_error: connection.lastError,
  };
}

/** The token we present to the peer. */
export class PeerTokenDto {
  token!: string;
}

import { Injectable } from '@nestjs/common';
import { PeerError } from '../common/errors.js';
import { OcpiStatus } from '../ocpi/envelope.js';
import type { CredentialsDto } from '../ocpi/dto/credentials.dto.js';
import type { EndpointDto } from '../ocpi/dto/endpoint.dto.js';
import { acceptPeerBusinessDetails } from '../ocpi/dto/peer-credentials.js';
import type { PeerDescription } from '../operations/connections.service.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import type { HandshakeRecorder } from './handshake-recorder.js';
import { PeerClient } from './peer-client.js';

export interface PeerVersion {
  version: typeof OCPI_VERSION;
  /** The peer's modules, as its version details list them. */
  endpoints: EndpointDto[];
  credentialsUrl: string;
}

/**
 * Version negotiation: GET the peer's versions, take 2.1.1 (3002 otherwise), GET its details and
 * require a credentials endpoint (3003 otherwise).
 */
@Injectable()
export class PeerDiscovery {
  constructor(private readonly peer: PeerClient) {}

  async discover(
    versionsUrl: string,
    token: string,
    recorder: HandshakeRecorder,
  ): Promise<PeerVersion> {
    const versions = await this.peer.call(
      { step: 'versions', method: 'GET', url: versionsUrl, token },
      recorder,
    );
    const offered = listOf(versions, 'versions').filter(
      (v): v is { version: string; url: string } =>
        typeof v.version === 'string' && typeof v.url === 'string',
    );
    const match = offered.find((v) => v.version === OCPI_VERSION);
    if (!match) {
      throw new PeerError(
        'versions',
        OcpiStatus.UNSUPPORTED_VERSION,
        `The peer offers no OCPI ${OCPI_VERSION} (offers: ${offered.map((v) => v.version).join(', ') || 'none'})`,
      );
    }

    const details = await this.peer.call(
      { step: 'version_details', method: 'GET', url: match.url, token },
      recorder,
    );
    const endpoints = listOf(
      typeof details === 'object' && details !== null
        ? (details as { endpoints?: unknown }).endpoints
        : undefined,
    )
      .filter(
        (e): e is { identifier: string; url: string } =>
          typeof e.identifier === 'string' && typeof e.url === 'string',
      )
      .map(({ identifier, url }) => ({ identifier, url }));
    const credentials = endpoints.find((e) => e.identifier === 'credentials');
    if (!credentials) {
      throw new PeerError(
        'version_details',
        OcpiStatus.NO_MATCHING_ENDPOINTS,
        `The peer's ${OCPI_VERSION} version details list no credentials endpoint`,
      );
    }
    return { version: OCPI_VERSION, endpoints, credentialsUrl: credentials.url };
  }
}

/**
 * What we keep of a peer: its credentials (its business details read leniently: what was left
 * out is noted in the history) and the version it was discovered at.
 */
export function describePeer(
  credentials: CredentialsDto,
  discovered: PeerVersion,
  recorder: HandshakeRecorder,
): PeerDescription {
  const { details, dropped } = acceptPeerBusinessDetails(credentials.business_details);
  if (dropped) recorder.notice(dropped);
  return {
    versionsUrl: credentials.url,
    countryCode: credentials.country_code,
    partyId: credentials.party_id,
    businessDetails: details,
    token: credentials.token,
    version: discovered.version,
    endpoints: discovered.endpoints,
  };
}

/**
 * The objects of a list in a peer's answer. Lenient: 2.1.1 sends a bare array, some peers wrap
 * it (`{"versions": [...]}`).
 */
function listOf(value: unknown, wrapper?: string): Record<string, unknown>[] {
  const list =
    wrapper && typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)[wrapper]
      : value;
  return Array.isArray(list)
    ? list.filter(
        (item): item is Record<string, unknown> => typeof item === 'object' && item !== null,
      )
    : [];
}

import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { FieldError } from '../common/errors.js';
import { toFieldErrors } from '../common/validation.pipe.js';
import { IsBoundedString } from '../common/validators.js';
import { EndpointDto } from '../ocpi/dto/endpoint.dto.js';
import { OcpiStatus } from '../ocpi/envelope.js';
import type { CredentialsDto } from '../ocpi/dto/credentials.dto.js';
import { acceptPeerBusinessDetails } from '../ocpi/dto/peer-credentials.js';
import { IsOcpiUrl } from '../ocpi/ocpi-validators.js';
import type { PeerDescription } from '../operations/connections.service.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import type { HandshakeRecorder } from './handshake-recorder.js';
import { PeerClient, type PeerRequest } from './peer-client.js';

export interface PeerVersion {
  version: typeof OCPI_VERSION;
  /** The peer's modules, as its version details list them. */
  endpoints: EndpointDto[];
  credentialsUrl: string;
}

/**
 * The most entries a peer's versions list or version details may have. OCPI 2.1.1 has 7 modules
 * and a handful of versions; what a peer lists is stored (its endpoints) and shown back by the
 * admin API, so it must stay small whatever the peer sends.
 */
export const MAX_PEER_LIST = 100;

/**
 * One entry of a peer's versions list. OCPI's VersionNumber is an enum of short strings (`2.1.1`);
 * 16 characters leave room for any future one. The URL, as every OCPI URL: string(255).
 */
class PeerVersionEntry {
  @IsBoundedString(16)
  version!: string;

  @IsOcpiUrl()
  url!: string;
}

/**
 * Version negotiation: GET the peer's versions, take 2.1.1 (3002 otherwise), GET its details and
 * require a credentials endpoint (3003 otherwise). What the peer lists is checked before it is
 * used or stored: at most {@link MAX_PEER_LIST} entries, each as OCPI defines it (an endpoint's
 * identifier and URL as our own {@link EndpointDto}: string(64) and an absolute http(s) URL of at
 * most 255 characters); anything else fails the handshake (3001), naming what was wrong.
 */
@Injectable()
export class PeerDiscovery {
  constructor(private readonly peer: PeerClient) {}

  async discover(
    versionsUrl: string,
    token: string,
    recorder: HandshakeRecorder,
  ): Promise<PeerVersion> {
    const versionsRequest: PeerRequest = {
      step: 'versions',
      method: 'GET',
      url: versionsUrl,
      token,
    };
    const versions = await this.peer.call(versionsRequest, recorder);
    const offered = this.checked(
      versionsRequest,
      'versions list',
      'versions',
      listOf(versions, 'versions'),
      PeerVersionEntry,
    );
    const match = offered.find((v) => v.version === OCPI_VERSION);
    if (!match) {
      throw this.peer.peerError(
        versionsRequest,
        OcpiStatus.UNSUPPORTED_VERSION,
        `The peer offers no OCPI ${OCPI_VERSION} (offers: ${offered.map((v) => v.version).join(', ') || 'none'})`,
      );
    }

    const detailsRequest: PeerRequest = {
      step: 'version_details',
      method: 'GET',
      url: match.url,
      token,
    };
    const details = await this.peer.call(detailsRequest, recorder);
    const endpoints = this.checked(
      detailsRequest,
      'version details',
      'endpoints',
      listOf(
        typeof details === 'object' && details !== null
          ? (details as { endpoints?: unknown }).endpoints
          : undefined,
      ),
      EndpointDto,
    ).map(({ identifier, url }) => ({ identifier, url }));
    const credentials = endpoints.find((e) => e.identifier === 'credentials');
    if (!credentials) {
      throw this.peer.peerError(
        detailsRequest,
        OcpiStatus.NO_MATCHING_ENDPOINTS,
        `The peer's ${OCPI_VERSION} version details list no credentials endpoint`,
      );
    }
    return { version: OCPI_VERSION, endpoints, credentialsUrl: credentials.url };
  }

  /** The entries of a list the peer answered, each checked as `type`; a failure otherwise. */
  private checked<T extends object>(
    request: PeerRequest,
    what: string,
    field: string,
    list: unknown[],
    type: new () => T,
  ): T[] {
    if (list.length > MAX_PEER_LIST) {
      throw this.peer.failure(
        request,
        `answered ${what} with ${list.length} ${field} (at most ${MAX_PEER_LIST} are accepted)`,
      );
    }
    const errors: FieldError[] = [];
    const entries = list.map((item, i) => {
      const entry = plainToInstance(type, isObject(item) ? item : {});
      errors.push(
        ...(isObject(item)
          ? toFieldErrors(validateSync(entry, { whitelist: true }), `${field}[${i}]`)
          : [{ field: `${field}[${i}]`, message: 'must be an object' }]),
      );
      return entry;
    });
    if (errors.length > 0) {
      const shown = errors.slice(0, 3).map((e) => `${e.field}: ${e.message}`);
      if (errors.length > shown.length) shown.push(`${errors.length - shown.length} more`);
      throw this.peer.failure(
        request,
        `answered ${what} that OCPI does not allow (${shown.join('; ')})`,
      );
    }
    return entries;
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
 * A list in a peer's answer. Lenient: 2.1.1 sends a bare array, some peers wrap it
 * (`{"versions": [...]}`); anything else is an empty list.
 */
function listOf(value: unknown, wrapper?: string): unknown[] {
  const list = wrapper && isObject(value) ? value[wrapper] : value;
  return Array.isArray(list) ? list : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

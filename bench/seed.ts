import type pg from 'pg';
import { SecretBox } from '../src/common/crypto/secret-box.js';

// Operator ids by index: 36^3 party ids per country, countries in turn (all ISO 3166, as the
// service checks), so that up to 12 × 46,656 operations have distinct, valid ids.
const COUNTRIES = ['FR', 'DE', 'ES', 'IT', 'NL', 'BE', 'AT', 'CH', 'PT', 'PL', 'SE', 'DK'];
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PER_COUNTRY = 36 ** 3;

export interface SeededOperation {
  countryCode: string;
  partyId: string;
  /** The token seeded for it (none for operations seeded without one). */
  token: string;
}

export type SeedKind = 'CONNECTION' | 'REGISTRATION' | 'NONE';

/** The id of the operation of index `i`: made from the index, so that the seed can seal for it. */
export function seededOperationId(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** The token the peer of the operation of index `i` gave us (the relay presents it). */
export function seededPeerToken(i: number): string {
  return `bench-peer-${i}`;
}

/**
 * What the edge needs of the operations seeded with a connection token: a module behind the
 * gateway (`upstreamUrl`, advertised as `locations`), and for the relay a peer offering
 * `locations` at `peerUrl` whose token is sealed with the service's ENCRYPTION_KEY (bound to the
 * operation id, as the service seals it).
 */
export interface EdgeSeed {
  upstreamUrl: string;
  peerUrl: string;
  encryptionKey: Buffer;
}

/** The operation of index `i` and its token, as {@link seedOperations} writes them. */
export function seededOperation(i: number, kind: SeedKind): SeededOperation {
  const p = i % PER_COUNTRY;
  return {
    countryCode: COUNTRIES[Math.floor(i / PER_COUNTRY)],
    partyId: DIGITS[Math.floor(p / 1296)] + DIGITS[Math.floor((p % 1296) / 36)] + DIGITS[p % 36],
    token: `bench-${kind.toLowerCase()}-${i}`,
  };
}

/**
 * Operations of indexes [from, to) in one statement, straight in SQL (100,000 take seconds, not
 * 100,000 HTTP calls): with a connection token and a REGISTERED connection (what a hub calling
 * us looks like), with a token A and no connection (ready for a FromIOP POST), or bare (ready
 * for a ToIOP register). Token hashes as the service computes them: SHA-256 of the token.
 */
export async function seedOperations(
  db: pg.Pool,
  from: number,
  to: number,
  kind: SeedKind,
  edge?: EdgeSeed,
): Promise<void> {
  if (to > COUNTRIES.length * PER_COUNTRY) throw new Error(`cannot name ${to} operations`);
  const connected = kind === 'CONNECTION' ? edge : undefined;
  const box = connected && new SecretBox(connected.encryptionKey);
  // Sealed here (AES-GCM, as the service does; 100,000 take a fraction of a second), indexed by
  // i - from in the statement.
  const sealed = box
    ? Array.from({ length: to - from }, (_, k) =>
        box.seal(seededPeerToken(from + k), seededOperationId(from + k)),
      )
    : [];
  const endpoints = connected
    ? [{ identifier: 'locations', upstream_url: connected.upstreamUrl }]
    : [];
  const peerEndpoints = connected ? [{ identifier: 'locations', url: connected.peerUrl }] : [];
  await db.query(
    `WITH s AS (
       SELECT i,
              ($3::text[])[i / ${PER_COUNTRY} + 1] AS cc,
              substr($4, (i % ${PER_COUNTRY}) / 1296 + 1, 1) || substr($4, (i % 1296) / 36 + 1, 1)
                || substr($4, i % 36 + 1, 1) AS pid
       FROM generate_series($1::int, $2::int - 1) AS i
     ), ops AS (
       INSERT INTO operations (id, country_code, party_id, business_details, endpoints)
       SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, cc, pid,
              '{"name": "Bench operation"}', $6::jsonb
       FROM s
       RETURNING id, country_code, party_id
     ), connections AS (
       INSERT INTO connections (operation_id, status, initiated_by, version, registered_at,
                                peer_country_code, peer_party_id, peer_endpoints,
                                peer_token_encrypted)
       SELECT ops.id,
              CASE WHEN $5 = 'CONNECTION' THEN 'REGISTERED' ELSE 'UNREGISTERED' END,
              CASE WHEN $5 = 'CONNECTION' THEN 'PEER' END,
              CASE WHEN $5 = 'CONNECTION' THEN '2.1.1' END,
              CASE WHEN $5 = 'CONNECTION' THEN now() END,
              CASE WHEN $5 = 'CONNECTION' THEN 'FR' END,
              CASE WHEN $5 = 'CONNECTION' THEN 'GIR' END,
              $7::jsonb,
              ($8::bytea[])[s.i - $1 + 1]
       FROM ops JOIN s ON s.cc = ops.country_code AND s.pid = ops.party_id
     )
     INSERT INTO issued_tokens (operation_id, hash, kind, state)
     SELECT ops.id, sha256(convert_to('bench-' || lower($5) || '-' || s.i, 'UTF8')), $5, 'ACTIVE'
     FROM ops JOIN s ON s.cc = ops.country_code AND s.pid = ops.party_id
     WHERE $5 <> 'NONE'`,
    [
      from,
      to,
      COUNTRIES,
      DIGITS,
      kind,
      JSON.stringify(endpoints),
      JSON.stringify(peerEndpoints),
      sealed,
    ],
  );
  await db.query('ANALYZE');
}

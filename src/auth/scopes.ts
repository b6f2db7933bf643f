/**
 * What an API key may do (DESIGN 12). Each admin, relay and metrics route needs exactly one
 * ({@link RequireScope}); the provider's ADMIN_TOKEN has them all.
 */
export const SCOPES = [
  /** Read operations, their connection, handshakes and deliveries. */
  'operations:read',
  /** Create, change and delete operations; issue registration tokens. */
  'operations:write',
  /** Register, update credentials, unregister, probe. */
  'handshakes',
  /** Read the peer's token in clear. */
  'peer-token',
  /** Call the peer through /relay. */
  'relay',
  /** Manage webhooks. */
  'webhooks',
  /** Scrape /metrics (service-wide: never for a key bound to an organisation). */
  'metrics',
] as const;

export type Scope = (typeof SCOPES)[number];

/**
 * Scopes a key bound to an organisation cannot hold: /metrics has no operation labels, it counts
 * the whole service, so an organisation's key would learn of the others' operations.
 */
export const SERVICE_WIDE_SCOPES: readonly Scope[] = ['metrics'];

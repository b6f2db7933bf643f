import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';
import type { DestinationStream } from 'pino';
import { IntInRange } from '../common/int-range.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Which environment variable feeds each setting: filled by {@link Env}. */
const VARIABLES = new Map<string, string>();

/** Names the environment variable a setting is read from. */
function Env(variable: string): PropertyDecorator {
  return (_target, property) => void VARIABLES.set(String(property), variable);
}

const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^(true|1|yes|false|0|no)$/i.test(value)
    ? /^(true|1|yes)$/i.test(value)
    : value;
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  value === '' ? undefined : value;

const KEY = /^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/;
const TRUST_PROXY = /^(|false|true|\d{1,2}|[\w.:/, -]+)$/;
const PRIVATE_PROXIES = 'loopback, linklocal, uniquelocal';

/**
 * The settings the environment gives, each declared once: its variable, how it is read, its rule
 * and its default. Every variable is documented in the README.
 */
export class EnvConfig {
  @Env('PORT')
  @Transform(toInt)
  @IntInRange(0, 65535)
  port = 3000;

  /** Connections the HTTP server holds at once; more are closed as they arrive. */
  @Env('MAX_CONNECTIONS')
  @Transform(toInt)
  @IntInRange(1, 1_000_000)
  maxConnections = 10_000;

  /** The address to listen on: loopback by default, `0.0.0.0` to be reached from other hosts. */
  @Env('HOST')
  @Matches(/^[\w.:-]+$/, {
    message: 'must be an address or host name such as 127.0.0.1 or 0.0.0.0',
  })
  host = '127.0.0.1';

  /** Externally visible base URL, without a trailing slash; `http://localhost:{PORT}` if unset. */
  @Env('PUBLIC_URL')
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && value !== '' ? value.replace(/\/+$/, '') : undefined,
  )
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'must be an absolute http(s) URL such as https://ocpi.cpo.example' },
  )
  publicUrl!: string;

  /** Absent: the service runs an embedded PostgreSQL in {@link dataDir}. */
  @Env('DATABASE_URL')
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, {
    message: 'must be a postgres:// URL such as postgres://user:pass@host:5432/db',
  })
  databaseUrl?: string;

  @Env('ADMIN_TOKEN')
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  adminToken?: string;

  /** A token that opens GET /metrics only, for a scraper that must not hold the admin token. */
  @Env('METRICS_TOKEN')
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  metricsToken?: string;

  /**
   * The token the CPO's systems present on /relay (`Authorization: Bearer`); it opens nothing
   * else. Generated in DATA_DIR for the embedded default; unset with DATABASE_URL, /relay is off.
   */
  @Env('RELAY_TOKEN')
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  relayToken?: string;

  /**
   * What the module gateway presents to upstreams (`Authorization: Bearer`), so that they accept
   * calls from the gateway only. Required once an operation proxies a module; generated in
   * DATA_DIR for the embedded default.
   */
  @Env('GATEWAY_UPSTREAM_TOKEN')
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  gatewayUpstreamToken?: string;

  /** AES-256-GCM key of the tokens we present to peers: 64 hex or 44 base64 characters. */
  @Env('ENCRYPTION_KEY')
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && KEY.test(value)
      ? Buffer.from(value, value.length === 64 ? 'hex' : 'base64')
      : emptyToUndefined({ value }),
  )
  @IsOptional()
  @ValidateBy({
    name: 'isKey',
    validator: {
      validate: (value: unknown) => Buffer.isBuffer(value) && value.length === 32,
      defaultMessage: () => 'must be 32 bytes as 64 hex characters or 44 base64 characters',
    },
  })
  encryptionKey?: Buffer;

  @Env('ALLOW_INSECURE_PEER_URLS')
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  allowInsecurePeerUrls = false;

  /**
   * Peers may be reached at loopback, private, link-local and other non-public addresses (tests,
   * local rehearsals). Off, such an address is refused before connecting, unless the host is on
   * PEER_HOST_ALLOWLIST.
   */
  @Env('ALLOW_PRIVATE_PEER_ADDRESSES')
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  allowPrivatePeerAddresses = false;

  @Env('PEER_TIMEOUT_MS')
  @Transform(toInt)
  @IntInRange(100, 120_000)
  peerTimeoutMs = 10_000;

  /** How long the gateway waits for an upstream's response headers (then 504). */
  @Env('UPSTREAM_TIMEOUT_MS')
  @Transform(toInt)
  @IntInRange(100, 600_000)
  upstreamTimeoutMs = 30_000;

  /** Largest request body the gateway forwards upstream (413 beyond); answers are not limited. */
  @Env('UPSTREAM_MAX_BODY_BYTES')
  @Transform(toInt)
  @IntInRange(1_024, 1_073_741_824)
  upstreamMaxBodyBytes = 10 * 1024 * 1024;

  /** Keep-alive connections the gateway and the relay open at most per upstream or peer origin. */
  @Env('UPSTREAM_CONNECTIONS')
  @Transform(toInt)
  @IntInRange(1, 10_000)
  upstreamConnections = 128;

  /** Lower-case host names; empty means every host is allowed. */
  @Env('PEER_HOST_ALLOWLIST')
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean)
      : value,
  )
  @IsString({ each: true })
  peerHostAllowlist: string[] = [];

  /** Lifetime of a token A issued without `expires_in_s`. */
  @Env('REGISTRATION_TOKEN_TTL_S')
  @Transform(toInt)
  @IntInRange(60, 366 * 24 * 3600)
  registrationTokenTtlS = 30 * 24 * 3600;

  /** Unexpired tokens A an operation may have at once. */
  @Env('MAX_ACTIVE_REGISTRATION_TOKENS')
  @Transform(toInt)
  @IntInRange(1, 1_000)
  maxActiveRegistrationTokens = 10;

  /** Days the handshake history and dead tokens (revoked, expired) are kept. */
  @Env('HISTORY_RETENTION_DAYS')
  @Transform(toInt)
  @IntInRange(1, 36_500)
  historyRetentionDays = 90;

  @Env('REREGISTRATION_GRACE_S')
  @Transform(toInt)
  @IntInRange(0)
  reregistrationGraceS = 7 * 24 * 3600;

  /**
   * Seconds between two probes of each registered connection (GET the peer's versions with its
   * token), spread over the interval across all replicas; 0 turns probing off.
   */
  @Env('HEALTH_PROBE_INTERVAL_S')
  @Transform(toInt)
  @IntInRange(0, 366 * 24 * 3600)
  healthProbeIntervalS = 300;

  /** Probes one replica runs at once at most; more due wait for a free one. */
  @Env('HEALTH_PROBE_CONCURRENCY')
  @Transform(toInt)
  @IntInRange(1, 1_000)
  healthProbeConcurrency = 16;

  /** Failed authentications one client address may make per window before it gets 429. */
  @Env('AUTH_FAILURE_LIMIT')
  @Transform(toInt)
  @IntInRange(1, 1_000_000)
  authFailureLimit = 30;

  @Env('AUTH_FAILURE_WINDOW_S')
  @Transform(toInt)
  @IntInRange(1, 86_400)
  authFailureWindowS = 60;

  /**
   * Operations and tokens the OCPI guard keeps in memory per replica (0: none), each for at most
   * AUTH_CACHE_MAX_AGE_S; changes reach every replica through PostgreSQL notifications.
   */
  @Env('AUTH_CACHE_ENTRIES')
  @Transform(toInt)
  @IntInRange(0, 10_000_000)
  authCacheEntries = 10_000;

  /**
   * The last bound on what the caches hold: every change already reaches them within the
   * notification's delivery, and they are off while notifications are not heard. Each entry in
   * use is read again once per this; at 30 s, a hub busy with 1,000 operations had 40 or more
   * token reads a second, which made its calls cost 8-30% more than with 10 (npm run bench).
   */
  @Env('AUTH_CACHE_MAX_AGE_S')
  @Transform(toInt)
  @IntInRange(1, 3_600)
  authCacheMaxAgeS = 300;

  /** Attempts of one outbox delivery (store-and-forward, webhooks) before it is dead. */
  @Env('OUTBOX_MAX_ATTEMPTS')
  @Transform(toInt)
  @IntInRange(1, 100_000)
  outboxMaxAttempts = 50;

  /** Age past which an outbox delivery still not sent is dead, whatever its attempts. */
  @Env('OUTBOX_MAX_AGE_S')
  @Transform(toInt)
  @IntInRange(1, 366 * 24 * 3600)
  outboxMaxAgeS = 7 * 24 * 3600;

  /** The longest wait between two attempts of a delivery (exponential backoff, capped). */
  @Env('OUTBOX_MAX_BACKOFF_S')
  @Transform(toInt)
  @IntInRange(1, 24 * 3600)
  outboxMaxBackoffS = 300;

  /** How long delivered deliveries are kept (then purged); dead ones stay until dropped. */
  @Env('OUTBOX_RETENTION_S')
  @Transform(toInt)
  @IntInRange(1, 366 * 24 * 3600)
  outboxRetentionS = 7 * 24 * 3600;

  /** Deliveries one replica sends at once (each of a different queue). */
  @Env('OUTBOX_CONCURRENCY')
  @Transform(toInt)
  @IntInRange(1, 1_000)
  outboxConcurrency = 32;

  @Env('LOG_LEVEL')
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  logLevel: LogLevel = 'info';

  /**
   * Express's `trust proxy`: which proxies to believe in X-Forwarded-For for the client address
   * (used to throttle failed authentications): the client is the right-most address that is not
   * a trusted proxy. false: the TCP peer is the client. true: proxies on private networks
   * (loopback, link-local, unique-local and RFC 1918 addresses), never "every address", which
   * would let a caller name any client it likes.
   */
  @Env('TRUST_PROXY')
  @Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string' || !TRUST_PROXY.test(value)) return value;
    if (value === '' || value === 'false') return false;
    if (value === 'true') return PRIVATE_PROXIES;
    return /^\d+$/.test(value) ? Number(value) : value;
  })
  @ValidateBy({
    name: 'isTrustProxy',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'boolean' ||
        typeof value === 'number' ||
        (typeof value === 'string' && TRUST_PROXY.test(value)),
      defaultMessage: () =>
        'must be false, true, a number of proxy hops, or addresses/subnets such as loopback, 10.0.0.0/8',
    },
  })
  trustProxy: boolean | number | string = false;

  @Env('DATA_DIR')
  @IsString()
  @MinLength(1)
  dataDir = '.data';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Validates the environment and fails with every bad variable named. */
export function loadConfig(env: NodeJS.ProcessEnv): EnvConfig {
  const raw = Object.fromEntries(
    [...VARIABLES]
      .filter(([, name]) => env[name] !== undefined)
      .map(([key, name]) => [key, env[name]]),
  );
  const config = plainToInstance(EnvConfig, raw);
  const errors = validateSync(config);
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map(
        (e) => `${VARIABLES.get(e.property)}: ${Object.values(e.constraints ?? {}).join('; ')}`,
      ),
    );
  }
  // Replicas sharing a database must share these too: generating them per data folder would give
  // each replica its own admin token and a key the others cannot decrypt with.
  if (config.databaseUrl) {
    const missing = (['adminToken', 'encryptionKey'] as const).filter((key) => !config[key]);
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map(
          (key) =>
            `${VARIABLES.get(key)}: is required with DATABASE_URL (it is generated only for the embedded database)`,
        ),
      );
    }
  }
  config.publicUrl ??= `http://localhost:${config.port}`;
  return config;
}

export interface AppConfig extends EnvConfig {
  adminToken: string;
  /** AES-256-GCM key for the tokens we present to peers. */
  encryptionKey: Buffer;
  /** Where the JSON log lines go when the app is embedded (e.g. a file); standard output if unset. */
  logDestination?: DestinationStream;
}

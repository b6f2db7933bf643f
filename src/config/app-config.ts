import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MinLength,
  validateSync,
} from 'class-validator';
import type { DestinationStream } from 'pino';
import { IsIntInRange } from '../common/validators.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toBoolean = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^(true|1|yes|false|0|no)$/i.test(value)
    ? /^(true|1|yes)$/i.test(value)
    : value;
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  value === '' ? undefined : value;

/** The environment as the service reads it; every variable is documented in the README. */
class Environment {
  @Transform(toInt)
  @IsIntInRange(0, 65535)
  PORT = 3000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'must be an absolute http(s) URL such as https://ocpi.cpo.example' },
  )
  PUBLIC_URL?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, {
    message: 'must be a postgres:// URL such as postgres://user:pass@host:5432/db',
  })
  DATABASE_URL?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  METRICS_TOKEN?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, {
    message: 'must be 32 bytes as 64 hex characters or 44 base64 characters',
  })
  ENCRYPTION_KEY?: string;

  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  ALLOW_INSECURE_PEER_URLS = false;

  @Transform(toInt)
  @IsIntInRange(100, 120_000)
  PEER_TIMEOUT_MS = 10_000;

  @IsString()
  PEER_HOST_ALLOWLIST = '';

  @Transform(toInt)
  @IsIntInRange(0)
  REREGISTRATION_GRACE_S = 7 * 24 * 3600;

  @Transform(toInt)
  @IsIntInRange(1, 1_000_000)
  AUTH_FAILURE_LIMIT = 30;

  @Transform(toInt)
  @IsIntInRange(1, 86_400)
  AUTH_FAILURE_WINDOW_S = 60;

  @Transform(toInt)
  @IsIntInRange(0, 10_000_000)
  AUTH_CACHE_ENTRIES = 10_000;

  @Transform(toInt)
  @IsIntInRange(1, 3_600)
  AUTH_CACHE_MAX_AGE_S = 30;

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @Matches(/^(|false|true|\d{1,2}|[\w.:/, -]+)$/, {
    message:
      'must be false, true, a number of proxy hops, or addresses/subnets such as loopback, 10.0.0.0/8',
  })
  TRUST_PROXY = 'false';

  @IsString()
  @MinLength(1)
  DATA_DIR = '.data';
}

/** What the environment says; {@link AppConfig} adds the secrets kept in DATA_DIR when unset. */
export interface EnvConfig {
  port: number;
  /** Externally visible base URL, without a trailing slash. */
  publicUrl: string;
  /** Absent: the service runs an embedded PostgreSQL in {@link dataDir}. */
  databaseUrl?: string;
  adminToken?: string;
  /** A token that opens GET /metrics only, for a scraper that must not hold the admin token. */
  metricsToken?: string;
  encryptionKey?: Buffer;
  allowInsecurePeerUrls: boolean;
  peerTimeoutMs: number;
  /** Lower-case host names; empty means every host is allowed. */
  peerHostAllowlist: string[];
  reregistrationGraceS: number;
  /** Failed authentications one client address may make per window before it gets 429. */
  authFailureLimit: number;
  authFailureWindowS: number;
  /**
   * Operations and tokens the OCPI guard keeps in memory per replica (0: none), each for at most
   * AUTH_CACHE_MAX_AGE_S; changes reach every replica through PostgreSQL notifications.
   */
  authCacheEntries: number;
  authCacheMaxAgeS: number;
  logLevel: LogLevel;
  /**
   * Express's `trust proxy`: which X-Forwarded-For hops to believe for the client address (used to
   * throttle failed authentications). false: the TCP peer is the client.
   */
  trustProxy: boolean | number | string;
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Validates the environment and fails with every bad variable named. */
export function loadConfig(env: NodeJS.ProcessEnv): EnvConfig {
  const known = Object.keys(new Environment());
  const raw = Object.fromEntries(known.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  const parsed = plainToInstance(Environment, raw);
  const errors = validateSync(parsed);
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`),
    );
  }
  // Replicas sharing a database must share these too: generating them per data folder would give
  // each replica its own admin token and a key the others cannot decrypt with.
  if (parsed.DATABASE_URL) {
    const missing = (['ADMIN_TOKEN', 'ENCRYPTION_KEY'] as const).filter((name) => !parsed[name]);
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map(
          (name) =>
            `${name}: is required with DATABASE_URL (it is generated only for the embedded database)`,
        ),
      );
    }
  }
  const key = parsed.ENCRYPTION_KEY;
  return {
    port: parsed.PORT,
    publicUrl: (parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, ''),
    databaseUrl: parsed.DATABASE_URL,
    adminToken: parsed.ADMIN_TOKEN,
    metricsToken: parsed.METRICS_TOKEN,
    encryptionKey: key ? Buffer.from(key, key.length === 64 ? 'hex' : 'base64') : undefined,
    allowInsecurePeerUrls: parsed.ALLOW_INSECURE_PEER_URLS,
    peerTimeoutMs: parsed.PEER_TIMEOUT_MS,
    peerHostAllowlist: parsed.PEER_HOST_ALLOWLIST.split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    reregistrationGraceS: parsed.REREGISTRATION_GRACE_S,
    authFailureLimit: parsed.AUTH_FAILURE_LIMIT,
    authFailureWindowS: parsed.AUTH_FAILURE_WINDOW_S,
    authCacheEntries: parsed.AUTH_CACHE_ENTRIES,
    authCacheMaxAgeS: parsed.AUTH_CACHE_MAX_AGE_S,
    logLevel: parsed.LOG_LEVEL,
    trustProxy: parseTrustProxy(parsed.TRUST_PROXY),
    dataDir: parsed.DATA_DIR,
  };
}

export interface AppConfig extends EnvConfig {
  adminToken: string;
  /** AES-256-GCM key for the tokens we present to peers. */
  encryptionKey: Buffer;
  /** Where the JSON log lines go when the app is embedded (e.g. a file); standard output if unset. */
  logDestination?: DestinationStream;
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

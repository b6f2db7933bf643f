import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateToken } from '../common/crypto/tokens.js';
import type { EnvConfig } from './app-config.js';

export interface ResolvedSecrets {
  adminToken: string;
  encryptionKey: Buffer;
  relayToken?: string;
  gatewayUpstreamToken?: string;
  /** Set when this start created the admin token, so that it is printed exactly once. */
  createdAdminTokenFile?: string;
  /** The files the relay and gateway upstream tokens come from, when not from the environment. */
  relayTokenFile?: string;
  gatewayUpstreamTokenFile?: string;
}

/**
 * ADMIN_TOKEN and ENCRYPTION_KEY come from the environment in production. When they are not set,
 * they are generated once and kept in DATA_DIR, so that the embedded default keeps the same admin
 * token and can still decrypt the peers' tokens after a restart. So are RELAY_TOKEN and
 * GATEWAY_UPSTREAM_TOKEN for the embedded default only: with DATABASE_URL, replicas must share
 * them, and unset they leave the relay off and no module proxied.
 */
export function resolveLocalSecrets(config: EnvConfig): ResolvedSecrets {
  const adminFile = join(config.dataDir, 'admin-token');
  const admin = config.adminToken
    ? { value: config.adminToken, created: false }
    : readOrCreate(adminFile, generateToken);
  const encryptionKey =
    config.encryptionKey ??
    Buffer.from(
      readOrCreate(join(config.dataDir, 'encryption-key'), () => randomBytes(32).toString('hex'))
        .value,
      'hex',
    );
  const local = (name: string, given: string | undefined) => {
    if (given || config.databaseUrl) return { value: given, file: undefined };
    const file = join(config.dataDir, name);
    return { value: readOrCreate(file, generateToken).value, file };
  };
  const relay = local('relay-token', config.relayToken);
  const gateway = local('gateway-upstream-token', config.gatewayUpstreamToken);
  return {
    adminToken: admin.value,
    encryptionKey,
    relayToken: relay.value,
    gatewayUpstreamToken: gateway.value,
    createdAdminTokenFile: admin.created ? adminFile : undefined,
    relayTokenFile: relay.file,
    gatewayUpstreamTokenFile: gateway.file,
  };
}

/** Reads a secret kept in a file, creating it with `create()` on first use (mode 600). */
export function readOrCreate(
  file: string,
  create: () => string,
): { value: string; created: boolean } {
  try {
    return { value: readFileSync(file, 'utf8').trim(), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = create();
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  try {
    // 'wx' fails when another instance created the file first: use theirs.
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return { value, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { value: readFileSync(file, 'utf8').trim(), created: false };
  }
}

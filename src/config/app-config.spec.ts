import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('gives a local run working defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      maxConnections: 10_000,
      historyRetentionDays: 90,
      maxActiveRegistrationTokens: 10,
      registrationTokenTtlS: 2_592_000,
      metricsToken: undefined,
      publicUrl: 'http://localhost:3000',
      databaseUrl: undefined,
      adminToken: undefined,
      encryptionKey: undefined,
      relayToken: undefined,
      gatewayUpstreamToken: undefined,
      allowInsecurePeerUrls: false,
      allowPrivatePeerAddresses: false,
      peerTimeoutMs: 10_000,
      upstreamTimeoutMs: 30_000,
      upstreamMaxBodyBytes: 10_485_760,
      upstreamConnections: 128,
      peerHostAllowlist: [],
      reregistrationGraceS: 604_800,
      authCacheEntries: 10_000,
      authCacheMaxAgeS: 300,
      authFailureLimit: 30,
      authFailureWindowS: 60,
      healthProbeIntervalS: 300,
      healthProbeConcurrency: 16,
      outboxMaxAttempts: 50,
      outboxMaxAgeS: 604_800,
      outboxMaxBackoffS: 300,
      outboxRetentionS: 604_800,
      outboxConcurrency: 32,
      logLevel: 'info',
      trustProxy: false,
      dataDir: '.data',
    });
  });

  it('reads the outbox settings, 1 s of backoff included', () => {
    expect(
      loadConfig({
        OUTBOX_MAX_ATTEMPTS: '3',
        OUTBOX_MAX_AGE_S: '60',
        OUTBOX_MAX_BACKOFF_S: '1',
        OUTBOX_RETENTION_S: '3600',
        OUTBOX_CONCURRENCY: '4',
      }),
    ).toMatchObject({
      outboxMaxAttempts: 3,
      outboxMaxAgeS: 60,
      outboxMaxBackoffS: 1,
      outboxRetentionS: 3600,
      outboxConcurrency: 4,
    });
  });

  it('refuses outbox settings out of range, naming each', () => {
    expect(() => loadConfig({ OUTBOX_MAX_BACKOFF_S: '0', OUTBOX_MAX_ATTEMPTS: 'many' })).toThrow(
      /OUTBOX_MAX_ATTEMPTS: .*\n.*OUTBOX_MAX_BACKOFF_S: must be a whole number from 1/s,
    );
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://ocpi.cpo.example/',
      DATABASE_URL: 'postgres://u:p@db:5432/ocpi',
      ADMIN_TOKEN: 'a-long-admin-token-123',
      ENCRYPTION_KEY: 'ab'.repeat(32),
      ALLOW_INSECURE_PEER_URLS: 'true',
      ALLOW_PRIVATE_PEER_ADDRESSES: 'yes',
      PEER_TIMEOUT_MS: '2500',
      PEER_HOST_ALLOWLIST: 'iop.gireve.com, Pre-IOP.gireve.com',
      REREGISTRATION_GRACE_S: '60',
      HEALTH_PROBE_INTERVAL_S: '0',
      HEALTH_PROBE_CONCURRENCY: '4',
      LOG_LEVEL: 'debug',
      DATA_DIR: '/var/lib/ocpi',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'https://ocpi.cpo.example',
      databaseUrl: 'postgres://u:p@db:5432/ocpi',
      allowInsecurePeerUrls: true,
      allowPrivatePeerAddresses: true,
      peerTimeoutMs: 2500,
      peerHostAllowlist: ['iop.gireve.com', 'pre-iop.gireve.com'],
      reregistrationGraceS: 60,
      healthProbeIntervalS: 0,
      healthProbeConcurrency: 4,
      logLevel: 'debug',
      dataDir: '/var/lib/ocpi',
    });
    expect(config.encryptionKey).toEqual(Buffer.alloc(32, 0xab));
  });

  it.each([
    ['true', 'loopback, linklocal, uniquelocal'],
    ['1', 1],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
  ])('reads TRUST_PROXY %j', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('takes a base64 encryption key', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ ENCRYPTION_KEY: key.toString('base64') }).encryptionKey).toEqual(key);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['HOST', 'my host'],
    ['PUBLIC_URL', 'ocpi.cpo.example'],
    ['DATABASE_URL', 'mysql://db/x'],
    ['ADMIN_TOKEN', 'short'],
    ['METRICS_TOKEN', 'short'],
    ['AUTH_CACHE_ENTRIES', 'lots'],
    ['AUTH_CACHE_MAX_AGE_S', '0'],
    ['ENCRYPTION_KEY', 'not-a-key'],
    ['ALLOW_INSECURE_PEER_URLS', 'maybe'],
    ['ALLOW_PRIVATE_PEER_ADDRESSES', 'sometimes'],
    ['PEER_TIMEOUT_MS', '10s'],
    ['REREGISTRATION_GRACE_S', '-1'],
    ['HEALTH_PROBE_INTERVAL_S', '-1'],
    ['HEALTH_PROBE_INTERVAL_S', '2.5'],
    ['HEALTH_PROBE_INTERVAL_S', '5m'],
    ['HEALTH_PROBE_CONCURRENCY', '0'],
    ['LOG_LEVEL', 'verbose'],
    ['TRUST_PROXY', 'yes please!'],
  ])('fails naming %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(
      expect.objectContaining({
        constructor: ConfigError,
        message: expect.stringContaining(`- ${name}: `),
      }),
    );
  });

  it.each(['ADMIN_TOKEN', 'ENCRYPTION_KEY'])(
    'requires %s with DATABASE_URL, as replicas must share it',
    (name) => {
      const env = {
        DATABASE_URL: 'postgres://db/ocpi',
        ADMIN_TOKEN: 'a-long-admin-token-123',
        ENCRYPTION_KEY: 'ab'.repeat(32),
      };
      expect(() => loadConfig({ ...env, [name]: undefined })).toThrow(
        new RegExp(`- ${name}: is required with DATABASE_URL`),
      );
    },
  );

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(/PORT: .*\n.*LOG_LEVEL: /s);
  });
});

import { basename, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { destination, type DestinationStream } from 'pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { AppModule } from '../../src/app.module.js';
import { configureApp, httpAdapter } from '../../src/app.setup.js';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { freePort } from '../../src/common/free-port.js';
import { recordRequestTokens, scratchSubdir } from './secrets.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const RELAY_TOKEN = 'test-relay-token-0123456789abcdef';
export const GATEWAY_UPSTREAM_TOKEN = 'test-gateway-upstream-token-0123456789';

// Every app of a test file logs at the most verbose level into one file of the run's scratch
// folder, which the secrets scan reads (test/secrets-scan.e2e-spec.ts); synchronous writes, so
// that nothing is still buffered when the scan runs.
let logFile: DestinationStream | undefined;
function testLogDestination(): DestinationStream | undefined {
  const dir = scratchSubdir('logs');
  if (!logFile && dir) {
    const file = basename(expect.getState().testPath ?? 'unknown', '.ts');
    const name = `app-${file}-${process.pid}-${Date.now().toString(36)}.log`;
    logFile = destination({ dest: join(dir, name), sync: true });
  }
  return logFile;
}

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** Base URL the app listens on (loopback, random port). */
  baseUrl: string;
  http: TestAgent;
  /** Headers of an authorized admin call. */
  admin: { Authorization: string };
  /** Closes the app; once only, whoever asks first (the test or the harness). */
  close(): Promise<void>;
}

/** What the request helpers need of an app: the harness, or any app it started. */
export type AppHandle = Pick<TestApp, 'http' | 'admin'>;

/** Headers of an authorized admin call, for any test app. */
export const ADMIN_HEADERS = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * The whole service, listening on loopback, against the given database; started by the harness
 * (harness.ts), which owns its data folder. With `reachable`, its PUBLIC_URL is its own loopback
 * address, so that a test peer can call it back.
 */
export async function startTestApp(
  base: Pick<AppConfig, 'databaseUrl' | 'dataDir' | 'encryptionKey'>,
  overrides: Partial<AppConfig> = {},
  { reachable = false } = {},
): Promise<TestApp> {
  const port = await freePort();
  const logDestination = testLogDestination();
  const config: AppConfig = {
    // The service's own defaults, then what the tests need.
    ...loadConfig({}),
    port,
    publicUrl: reachable ? `http://127.0.0.1:${port}` : 'https://ocpi.cpo.example',
    ...base,
    adminToken: ADMIN_TOKEN,
    relayToken: RELAY_TOKEN,
    gatewayUpstreamToken: GATEWAY_UPSTREAM_TOKEN,
    allowInsecurePeerUrls: true,
    // The peers of the tests listen on loopback.
    allowPrivatePeerAddresses: true,
    peerTimeoutMs: 2_000,
    // No probes unless a suite asks: they would add calls to what its peers receive.
    healthProbeIntervalS: 0,
    // High enough for suites that try hundreds of bad tokens on purpose; one suite lowers it.
    authFailureLimit: 100_000,
    logLevel: logDestination ? 'trace' : 'silent',
    logDestination,
    ...overrides,
  };
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(httpAdapter(config), {
    logger: false,
    bodyParser: false,
  });
  configureApp(app);
  // Test-only: every token seen in a request or a response, for the secrets scan.
  app.use(recordRequestTokens);
  let closed: Promise<void> | undefined;
  try {
    await app.listen(port, config.host);
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    http: request(app.getHttpServer()),
    admin: ADMIN_HEADERS,
    close: () => (closed ??= app.close()),
  };
}

import type { ConfigService } from '@nestjs/config';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import type { ConnectionHealthService, ProbeTarget } from './connection-health.service.js';
import { HealthProber } from './health-prober.js';
import type { ProbeOutcome } from './probe-outcome.js';

/**
 * A database of `due` connections and peers that answer when told: what the prober claims,
 * probes and records, and how many probes it runs at once.
 */
class FakeHealth {
  due: string[];
  running = 0;
  mostAtOnce = 0;
  readonly asked: number[] = [];
  readonly recorded: string[] = [];
  private readonly answers: (() => void)[] = [];

  constructor(count: number) {
    this.due = Array.from({ length: count }, (_, n) => `op-${n}`);
  }

  claimDue(limit: number) {
    this.asked.push(limit);
    const claimed = this.due.splice(0, limit);
    const targets: ProbeTarget[] = claimed.map((operationId) => ({
      operationId,
      versionsUrl: 'https://peer/versions',
      sealedToken: Buffer.alloc(0),
    }));
    return Promise.resolve({ targets, claimed: claimed.length });
  }

  probe(): Promise<ProbeOutcome> {
    this.running += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    return new Promise((resolve) =>
      this.answers.push(() => {
        this.running -= 1;
        resolve({ status: 'UP', error: null });
      }),
    );
  }

  record(_manager: unknown, target: ProbeTarget) {
    this.recorded.push(target.operationId);
    return Promise.resolve(undefined);
  }

  /** The peers of the probes under way answer. */
  answerAll(): void {
    for (const answer of this.answers.splice(0)) answer();
  }

  get waiting(): number {
    return this.answers.length;
  }
}

const until = async (done: () => boolean) => {
  for (let waited = 0; !done() && waited < 5_000; waited += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(done()).toBe(true);
};

function prober(health: FakeHealth, concurrency: number, intervalS = 1): HealthProber {
  const settings: Partial<AppConfig> = {
    healthProbeIntervalS: intervalS,
    healthProbeConcurrency: concurrency,
  };
  const config = { get: (key: keyof AppConfig) => settings[key] };
  return new HealthProber(
    health as unknown as ConnectionHealthService,
    { manager: {} } as DataSource,
    config as unknown as ConfigService<AppConfig, true>,
  );
}

describe('HealthProber', () => {
  let running: HealthProber | undefined;
  afterEach(async () => {
    await running?.beforeApplicationShutdown();
    running = undefined;
  });

  it('runs at most HEALTH_PROBE_CONCURRENCY probes at once, and claims more as slots free', async () => {
    const health = new FakeHealth(7);
    running = prober(health, 3);
    running.onApplicationBootstrap();
    await until(() => health.waiting === 3);
    // Asked for its free slots only.
    expect(health.asked).toEqual([3]);
    while (health.recorded.length < 7) {
      health.answerAll();
      await until(() => health.waiting > 0 || health.recorded.length === 7);
    }
    expect(health.mostAtOnce).toBe(3);
    expect(health.asked.every((limit) => limit >= 1 && limit <= 3)).toBe(true);
    expect(health.recorded.sort()).toEqual(
      ['op-0', 'op-1', 'op-2', 'op-3', 'op-4', 'op-5', 'op-6'].sort(),
    );
  });

  it('records nothing of a probe that ends once it is stopping, and claims no more', async () => {
    const health = new FakeHealth(2);
    const stopped = prober(health, 1);
    stopped.onApplicationBootstrap();
    await until(() => health.waiting === 1);
    stopped.onModuleDestroy();
    health.answerAll();
    await stopped.beforeApplicationShutdown();
    expect(health.recorded).toEqual([]);
    expect(health.asked).toEqual([1]);
  });

  it('probes nothing with HEALTH_PROBE_INTERVAL_S at 0', async () => {
    const health = new FakeHealth(1);
    running = prober(health, 1, 0);
    running.onApplicationBootstrap();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(health.asked).toEqual([]);
  });
});

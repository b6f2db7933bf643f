import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { messageOf } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { ConnectionHealthService, type ProbeTarget } from './connection-health.service.js';

/**
 * How often a replica looks for due probes: an eighth of the interval, from 100 ms to 250 ms. A
 * look takes what fell due since the last one, so looks rarer than a few per second would make
 * the probes come in bunches.
 */
const MAX_LOOK_MS = 250;
const MIN_LOOK_MS = 100;

/**
 * Runs in every replica while HEALTH_PROBE_INTERVAL_S is not 0: looks for due connections a few
 * times a second, claims as many as it has free slots for
 * (HEALTH_PROBE_CONCURRENCY), probes them and records what it found. Which replica probes a
 * connection is whichever claims it first; see ConnectionHealthService for the claim.
 *
 * When it stops, it claims no more and records nothing more (a probe cut short by the shutdown
 * must not read as DOWN); the probes it leaves have leases that run out.
 */
@Injectable()
export class HealthProber
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger('HealthProber');
  private readonly intervalS: number;
  private readonly concurrency: number;
  private readonly lookMs: number;
  private timer?: NodeJS.Timeout;
  private running = 0;
  /** Set when the last look found more due than free slots: freed slots look again. */
  private backlog = false;
  private stopping = false;
  /** Records being written, waited for before the database closes. */
  private readonly recording = new Set<Promise<unknown>>();
  /** So that a database outage is logged once, not at every look. */
  private failing = false;

  constructor(
    private readonly health: ConnectionHealthService,
    private readonly dataSource: DataSource,
    config: ConfigService<AppConfig, true>,
  ) {
    this.intervalS = config.get('healthProbeIntervalS', { infer: true });
    this.concurrency = config.get('healthProbeConcurrency', { infer: true });
    this.lookMs = Math.min(MAX_LOOK_MS, Math.max(MIN_LOOK_MS, (this.intervalS * 1000) / 8));
  }

  onApplicationBootstrap(): void {
    if (this.intervalS > 0) this.lookIn(0);
  }

  onModuleDestroy(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    await Promise.allSettled([...this.recording]);
  }

  private lookIn(ms: number): void {
    clearTimeout(this.timer);
    if (!this.stopping) this.timer = setTimeout(() => void this.look(), ms);
  }

  private async look(): Promise<void> {
    const started = Date.now();
    const free = this.concurrency - this.running;
    let full = false;
    if (free > 0) {
      try {
        const { targets, claimed } = await this.health.claimDue(free);
        if (this.failing) this.logger.log('Claiming due probes again');
        this.failing = false;
        full = claimed === free;
        for (const target of targets) this.run(target);
      } catch (error) {
        if (!this.failing) {
          this.logger.warn(`Cannot claim due probes: ${messageOf(error)}`);
        }
        this.failing = true;
      }
    } else {
      full = true;
    }
    // At a steady pace (from the start of this look), whatever the claim took.
    if (!full) this.lookIn(Math.max(0, started + this.lookMs - Date.now()));
    else if (this.running < this.concurrency) this.lookIn(0);
    else this.backlog = true;
  }

  private run(target: ProbeTarget): void {
    this.running += 1;
    void (async () => {
      try {
        const outcome = await this.health.probe(target);
        if (this.stopping) return;
        const recorded = this.health.record(this.dataSource.manager, target, outcome);
        this.recording.add(recorded);
        try {
          await recorded;
        } finally {
          this.recording.delete(recorded);
        }
      } catch (error) {
        // The lease runs out and the connection is probed at its next turn.
        this.logger.warn(`Probe of ${target.operationId} not recorded: ${messageOf(error)}`);
      } finally {
        this.running -= 1;
        // Claimed again once half the slots are free, not at each: one claim for many probes.
        if (this.backlog && this.running <= this.concurrency / 2) {
          this.backlog = false;
          this.lookIn(0);
        }
      }
    })();
  }
}

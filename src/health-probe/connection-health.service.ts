import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource, type EntityManager } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box.js';
import { ConflictError, PeerError } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { DATABASE_WAIT_MS } from '../database/data-source-options.js';
import { PeerClient } from '../handshake/peer-client.js';
import type { HandshakeStepRecord } from '../handshake/handshake.entity.js';
import type { HealthStatus } from '../operations/connection.entity.js';
import type { ConnectionHealthDto } from '../operations/dto/connection.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { formatOperatorId } from '../operations/operator-id.js';
import { failedProbe, UP, type ProbeOutcome } from './probe-outcome.js';
import { WebhookEvents } from '../webhooks/webhook-events.js';
import { ProbeMetrics } from './probe-metrics.js';

/** A registered connection to probe, as claimed: what the probe calls, with what token. */
export interface ProbeTarget {
  operationId: string;
  versionsUrl: string;
  /** The peer's token, sealed: the probe's result is kept only if it is still the one stored. */
  sealedToken: Buffer;
}

/** What {@link ConnectionHealthService.claimDue} claimed: probes to run now. */
interface ClaimedRow {
  operation_id: string;
  probe: boolean;
  peer_versions_url: string | null;
  peer_token_encrypted: Buffer | null;
}

interface HealthRow {
  previous: HealthStatus;
  health_status: HealthStatus;
  health_checked_at: Date;
  health_last_up_at: Date | null;
  health_consecutive_failures: number;
  health_error: string | null;
}

/** A health change, as {@link ConnectionHealthService.record} saw it in its transaction. */
export interface HealthChange {
  operationId: string;
  previous: HealthStatus;
  health: ConnectionHealthDto;
}

/**
 * The health of connections (DESIGN 10): who probes which connection when (claimed in the
 * database, so that each is probed once per interval across replicas and never twice at once),
 * the probe itself (GET the peer's versions with its token, through PeerClient and its rules),
 * and the one writer of the health columns.
 *
 * A claim leases the connection for the longest a probe may take (PEER_TIMEOUT_MS, then the
 * database's bound for recording it): a replica that dies mid-probe leaves a lease that runs
 * out, and the next due time was set with the claim, so the connection is probed at its next
 * turn by any replica.
 */
@Injectable()
export class ConnectionHealthService {
  private readonly logger = new Logger('ConnectionHealth');
  private readonly intervalS: number;
  private readonly leaseS: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly peer: PeerClient,
    private readonly secrets: SecretBox,
    private readonly metrics: ProbeMetrics,
    private readonly events: WebhookEvents,
    config: ConfigService<AppConfig, true>,
  ) {
    this.intervalS = config.get('healthProbeIntervalS', { infer: true });
    this.leaseS = (config.get('peerTimeoutMs', { infer: true }) + DATABASE_WAIT_MS) / 1000;
  }

  /**
   * Claims up to `limit` due connections: each gets its next due time, one interval on in its
   * own phase (so that the probes stay spread as they were; after an outage, the next turn after
   * now, never a burst of catching up), and a lease. A new registration ('-infinity') gets a
   * first due time at random within the interval, instead of a probe: registrations in bulk are
   * probed spread, not at once. Rows another replica is claiming are skipped, not waited for. The
   * scan reads due rows only (the partial index on probe_due_at), whatever the number of
   * connections. Returns the connections to probe now.
   */
  async claimDue(limit: number): Promise<{ targets: ProbeTarget[]; claimed: number }> {
    // An UPDATE answers [rows, affected] through TypeORM.
    const [rows] = await this.dataSource.query<[ClaimedRow[], number]>(
      `WITH due AS (
         SELECT operation_id, probe_due_at AS due_at FROM connections
          WHERE status = 'REGISTERED' AND probe_due_at <= now()
            AND (probing_until IS NULL OR probing_until < now())
          ORDER BY probe_due_at
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       )
       UPDATE connections c SET
         probe_due_at = CASE
           WHEN due.due_at = '-infinity' THEN now() + random() * make_interval(secs => $1::float8)
           ELSE due.due_at + make_interval(secs =>
             $1::float8 * (floor(extract(epoch FROM now() - due.due_at) / $1::float8) + 1))
         END,
         probing_until = CASE
           WHEN due.due_at = '-infinity' THEN c.probing_until
           ELSE now() + make_interval(secs => $2::float8)
         END
       FROM due
       WHERE c.operation_id = due.operation_id
       RETURNING c.operation_id, due.due_at <> '-infinity' AS probe, c.peer_versions_url,
         c.peer_token_encrypted`,
      [this.intervalS, this.leaseS, limit],
    );
    const targets = rows.flatMap((row) => {
      const target = toTarget(row);
      return row.probe && target ? [target] : [];
    });
    return { targets, claimed: rows.length };
  }

  /**
   * Probes a registered connection now, whatever its turn (it keeps its turn), and answers its
   * new health. 409 when it is not registered, or a probe of it is under way.
   */
  async probeNow(operation: Operation): Promise<ConnectionHealthDto> {
    const [[row]] = await this.dataSource.query<[ClaimedRow[], number]>(
      `UPDATE connections SET probing_until = now() + make_interval(secs => $2::float8)
        WHERE operation_id = $1 AND status = 'REGISTERED'
          AND (probing_until IS NULL OR probing_until < now())
       RETURNING operation_id, true AS probe, peer_versions_url, peer_token_encrypted`,
      [operation.id, this.leaseS],
    );
    const name = formatOperatorId(operation);
    const target = row && toTarget(row);
    if (!target) {
      const [current] = await this.dataSource.query<{ status: string }[]>(
        'SELECT status FROM connections WHERE operation_id = $1',
        [operation.id],
      );
      if (current?.status !== 'REGISTERED') {
        throw new ConflictError(`Operation ${name} is not registered: there is nothing to probe`);
      }
      throw new ConflictError(
        `A probe of ${name} is under way: its result shows in GET /admin/operations/${encodeURIComponent(name)}/connection within ${Math.ceil(this.leaseS)} s`,
      );
    }
    const change = await this.record(this.dataSource.manager, target, await this.probe(target));
    if (!change) {
      throw new ConflictError(
        `The connection of ${name} changed during the probe (a handshake): probe again`,
      );
    }
    return change.health;
  }

  /**
   * One probe: GET the peer's versions URL with the peer's token, bounded by PEER_TIMEOUT_MS.
   * Never throws; writes nothing.
   */
  async probe(target: ProbeTarget): Promise<ProbeOutcome> {
    const started = performance.now();
    let token: string | undefined;
    try {
      token = this.secrets.open(target.sealedToken, target.operationId);
    } catch {
      // Not the peer's fault: said as ours, below, with what to check.
    }
    const outcome = token === undefined ? UNDECRYPTABLE : await this.callVersions(target, token);
    this.metrics.observe(outcome.status, (performance.now() - started) / 1000);
    return outcome;
  }

  private async callVersions(target: ProbeTarget, token: string): Promise<ProbeOutcome> {
    const steps: HandshakeStepRecord[] = [];
    try {
      await this.peer.call(
        { step: 'versions', method: 'GET', url: target.versionsUrl, token },
        { add: (step) => steps.push(step) },
      );
      return UP;
    } catch (error) {
      // PeerClient tells every failure of the peer as a PeerError: anything else is ours.
      if (!(error instanceof PeerError)) {
        this.logger.error(`Probe of ${target.operationId} failed: ${String(error)}`);
      }
      return failedProbe(error, steps.at(-1)?.http_status ?? null);
    }
  }

  /**
   * Keeps what a probe found, in one transaction: the health before (row locked) and after,
   * unless the connection changed meanwhile (a handshake registered, updated or ended it: the
   * stored token is no longer the one probed with), when the result is dropped (undefined) and
   * the lease let go. Returns the new health and the status before.
   */
  async record(
    manager: EntityManager,
    target: ProbeTarget,
    outcome: ProbeOutcome,
  ): Promise<HealthChange | undefined> {
    const change = await manager.transaction(async (tx) => {
      const [[row]] = await tx.query<[HealthRow[], number]>(
        `UPDATE connections c SET
           health_status = $3::text,
           health_checked_at = now(),
           health_last_up_at = CASE WHEN $3::text = 'UP' THEN now() ELSE c.health_last_up_at END,
           health_consecutive_failures =
             CASE WHEN $3::text = 'UP' THEN 0 ELSE c.health_consecutive_failures + 1 END,
           health_error = $4::text,
           probing_until = NULL
         FROM (
           SELECT operation_id, health_status FROM connections
            WHERE operation_id = $1 AND status = 'REGISTERED' AND peer_token_encrypted = $2
            FOR UPDATE
         ) before
         WHERE c.operation_id = before.operation_id
         RETURNING before.health_status AS previous, c.health_status, c.health_checked_at,
           c.health_last_up_at, c.health_consecutive_failures, c.health_error`,
        [target.operationId, target.sealedToken, outcome.status, outcome.error],
      );
      if (!row) return undefined;
      const recorded: HealthChange = {
        operationId: target.operationId,
        previous: row.previous,
        health: {
          status: row.health_status,
          checked_at: row.health_checked_at,
          last_up_at: row.health_last_up_at,
          consecutive_failures: row.health_consecutive_failures,
          error: row.health_error,
        },
      };
      if (recorded.previous !== recorded.health.status) {
        // Written in the transaction that makes the change: emitted exactly when it commits.
        await this.events.connectionChanged(tx, target.operationId, 'connection.health_changed');
        this.logger.log(
          `Connection of ${target.operationId} is ${recorded.health.status} (was ${recorded.previous})`,
        );
      }
      return recorded;
    });
    if (!change) {
      await manager.query(
        'UPDATE connections SET probing_until = NULL WHERE operation_id = $1 AND probing_until IS NOT NULL',
        [target.operationId],
      );
    }
    return change;
  }
}

/** What a probe finds when the token it is to present cannot be opened (ENCRYPTION_KEY changed). */
const UNDECRYPTABLE: ProbeOutcome = {
  status: 'DOWN',
  error:
    'The stored peer token cannot be decrypted (was ENCRYPTION_KEY changed?): this service cannot present it; register again',
};

function toTarget(row: ClaimedRow): ProbeTarget | undefined {
  return row.peer_versions_url && row.peer_token_encrypted
    ? {
        operationId: row.operation_id,
        versionsUrl: row.peer_versions_url,
        sealedToken: row.peer_token_encrypted,
      }
    : undefined;
}

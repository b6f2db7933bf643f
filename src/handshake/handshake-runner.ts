import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ConflictError, DomainError, NotFoundError } from '../common/errors.js';
import { POOL_SIZE } from '../database/data-source-options.js';
import { OPERATION_LOCK_KEY } from '../database/operation-lock.js';
import type { Initiator } from '../operations/connection.entity.js';
import { Semaphore } from './semaphore.js';
import { HandshakeHistoryService } from './handshake-history.service.js';
import type { HandshakeAction } from './handshake.entity.js';
import { HandshakeRecorder } from './handshake-recorder.js';

export interface HandshakeContext {
  recorder: HandshakeRecorder;
  /**
   * Bound to the connection that holds the lock; every write of the handshake goes through it,
   * and `manager.transaction()` writes the outcome atomically, so that an interrupted handshake
   * leaves nothing half-written.
   */
  manager: EntityManager;
}

/**
 * Runs one handshake of an operation: at most one at a time per operation across every replica
 * (a PostgreSQL advisory lock, released by the server itself if this process dies), and a
 * history entry for each attempt that got as far as talking to the peer or changing anything.
 */
@Injectable()
export class HandshakeRunner {
  private readonly logger = new Logger('Handshake');
  /**
   * Each handshake holds one pooled connection (its lock, and all its writes) while it waits on
   * the peer, and the peer's call-backs to us need connections too: at most half the pool runs
   * handshakes, the others wait their turn here instead of starving the pool.
   */
  private readonly slots = new Semaphore(Math.max(1, Math.floor(POOL_SIZE / 2)));

  constructor(
    private readonly dataSource: DataSource,
    private readonly history: HandshakeHistoryService,
  ) {}

  async run<T>(
    operationId: string,
    action: HandshakeAction,
    initiatedBy: Initiator,
    work: (context: HandshakeContext) => Promise<T>,
  ): Promise<T> {
    await this.slots.acquire();
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
    } catch (error) {
      this.slots.release();
      throw error;
    }
    try {
      const [{ locked }] = (await runner.query(
        `SELECT pg_try_advisory_lock(${OPERATION_LOCK_KEY}) AS locked`,
        [operationId],
      )) as [{ locked: boolean }];
      if (!locked) {
        throw new ConflictError('Another handshake of this operation is in progress');
      }
      // Deleted between the request's lookup and the lock: a DELETE cannot run from here on, as
      // it needs this lock too.
      const [exists] = (await runner.query('SELECT 1 FROM operations WHERE id = $1', [
        operationId,
      ])) as unknown[];
      if (!exists) throw new NotFoundError('The operation was deleted meanwhile');
      const recorder = new HandshakeRecorder(action, initiatedBy);
      try {
        const result = await work({ recorder, manager: runner.manager });
        await this.history.record(
          runner.manager,
          operationId,
          recorder,
          'SUCCEEDED',
          recorder.note,
        );
        return result;
      } catch (error) {
        // A request refused on the state of the connection, its token or its input is not a
        // handshake: nothing was attempted.
        if (!(error instanceof DomainError && error.refusal)) {
          const message = error instanceof DomainError ? error.message : 'Internal error';
          await this.history.record(runner.manager, operationId, recorder, 'FAILED', message);
          this.logger.warn(
            `${initiatedBy} ${action} of operation ${operationId} failed: ${message}`,
          );
        }
        throw error;
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${OPERATION_LOCK_KEY})`, [operationId]);
      }
    } finally {
      await runner.release();
      this.slots.release();
    }
  }
}

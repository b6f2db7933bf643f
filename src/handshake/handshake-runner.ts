import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  ConflictError,
  DomainError,
  NotAllowedError,
  UnauthorizedError,
} from '../common/errors.js';
import type { Initiator } from './connection.entity.js';
import { HandshakeHistoryService } from './handshake-history.service.js';
import type { HandshakeAction } from './handshake.entity.js';
import { HandshakeRecorder } from './handshake-recorder.js';

export interface HandshakeContext {
  recorder: HandshakeRecorder;
  /**
   * Bound to the connection that holds the lock: `manager.transaction()` writes the outcome
   * atomically, so that an interrupted handshake leaves nothing half-written.
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
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [operationId],
      )) as [{ locked: boolean }];
      if (!locked) {
        throw new ConflictError('Another handshake of this operation is in progress');
      }
      const recorder = new HandshakeRecorder(action, initiatedBy);
      try {
        const result = await work({ recorder, manager: runner.manager });
        await this.history.record(operationId, recorder, 'SUCCEEDED', recorder.note);
        return result;
      } catch (error) {
        // A request refused on the state of the connection or its token is not a handshake.
        if (!(error instanceof NotAllowedError || error instanceof UnauthorizedError)) {
          const message = error instanceof DomainError ? error.message : 'Internal error';
          await this.history.record(operationId, recorder, 'FAILED', message);
          this.logger.warn(
            `${initiatedBy} ${action} of operation ${operationId} failed: ${message}`,
          );
        }
        throw error;
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [operationId]);
      }
    } finally {
      await runner.release();
    }
  }
}

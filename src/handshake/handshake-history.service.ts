import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, type EntityManager } from 'typeorm';
import type { PageQueryDto } from '../common/dto/page-query.dto.js';
import { HandshakeMetrics } from './handshake-metrics.js';
import type { HandshakePageDto } from './dto/handshake.dto.js';
import { Handshake, type HandshakeOutcome } from './handshake.entity.js';
import type { HandshakeRecorder } from './handshake-recorder.js';

@Injectable()
export class HandshakeHistoryService {
  constructor(
    @InjectRepository(Handshake) private readonly handshakes: Repository<Handshake>,
    private readonly metrics: HandshakeMetrics,
  ) {}

  /** Written through the handshake's own connection (`manager`), which holds its lock. */
  async record(
    manager: EntityManager,
    operationId: string,
    recorder: HandshakeRecorder,
    outcome: HandshakeOutcome,
    error: string | null,
  ): Promise<void> {
    await manager.insert(Handshake, {
      operationId,
      action: recorder.action,
      initiatedBy: recorder.initiatedBy,
      outcome,
      error,
      steps: recorder.steps,
      startedAt: recorder.startedAt,
      finishedAt: new Date(),
    });
    this.metrics.count(recorder.action, recorder.initiatedBy, outcome);
  }

  /** Deletes the entries that started more than `days` ago; returns how many. */
  async purgeOlderThan(days: number): Promise<number> {
    const result = await this.handshakes
      .createQueryBuilder()
      .delete()
      .where('started_at < now() - make_interval(days => :days)', { days })
      .execute();
    return result.affected ?? 0;
  }

  /** Newest first. */
  async list(operationId: string, { offset, limit }: PageQueryDto): Promise<HandshakePageDto> {
    const [rows, total] = await this.handshakes.findAndCount({
      where: { operationId },
      order: { startedAt: 'DESC' },
      skip: offset,
      take: limit,
    });
    return {
      items: rows.map((h) => ({
        id: h.id,
        action: h.action,
        initiated_by: h.initiatedBy,
        outcome: h.outcome,
        error: h.error,
        steps: h.steps,
        started_at: h.startedAt,
        finished_at: h.finishedAt,
      })),
      total,
      offset,
      limit,
    };
  }
}

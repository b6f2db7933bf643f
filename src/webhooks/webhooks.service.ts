import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { SecretBox } from '../common/crypto/secret-box.js';
import type { PageQueryDto } from '../common/dto/page-query.dto.js';
import { NotFoundError } from '../common/errors.js';
import type {
  CreatedWebhookDto,
  CreateWebhookDto,
  WebhookDto,
  WebhookPageDto,
} from './dto/webhook.dto.js';
import { Webhook } from './webhook.entity.js';

/** Bytes of a webhook's signing key (Standard Webhooks: 24 to 64). */
const KEY_BYTES = 32;

/** The webhooks table's one writer: receivers of connection events, managed by the admin. */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * A new receiver, with a new secret shown this once; made by a key bound to an organisation,
   * it receives that organisation's events only.
   */
  async create(dto: CreateWebhookDto, principal: Principal): Promise<CreatedWebhookDto> {
    const id = randomUUID();
    const secret = `whsec_${randomBytes(KEY_BYTES).toString('base64')}`;
    await this.webhooks.insert({
      id,
      url: dto.url,
      events: dto.events,
      secretEncrypted: this.secrets.seal(secret, id),
      organisationId: principal.organisationId ?? null,
    });
    const created = await this.webhooks.findOneByOrFail({ id });
    return { ...toDto(created), secret };
  }

  /** Oldest first: those the caller sees (its organisation's, for a bound key). */
  async list({ offset, limit }: PageQueryDto, principal: Principal): Promise<WebhookPageDto> {
    const [rows, total] = await this.webhooks.findAndCount({
      where:
        principal.organisationId === undefined ? {} : { organisationId: principal.organisationId },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    return { items: rows.map(toDto), total, offset, limit };
  }

  /**
   * Removes a receiver and the events not yet delivered to it; another organisation's is 404 to a
   * bound key.
   */
  async remove(id: string, principal: Principal): Promise<void> {
    await this.webhooks.manager.transaction(async (manager) => {
      const [, deleted] = await manager.query<[unknown[], number]>(
        'DELETE FROM webhooks WHERE id = $1 AND ($2::uuid IS NULL OR organisation_id = $2)',
        [id, principal.organisationId ?? null],
      );
      if (deleted === 0) throw new NotFoundError(`No webhook ${id}`);
      await manager.query(`DELETE FROM deliveries WHERE kind = 'webhook' AND identifier = $1`, [
        id,
      ]);
    });
  }
}

function toDto(webhook: Webhook): WebhookDto {
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.events,
    organisation_id: webhook.organisationId,
    created_at: webhook.createdAt,
  };
}

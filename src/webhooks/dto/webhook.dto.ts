import { ApiProperty } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsUrl, MaxLength } from 'class-validator';
import { CONNECTION_EVENTS, type ConnectionEvent } from '../webhook.entity.js';

export class CreateWebhookDto {
  /** Where the events are POSTed: an absolute http(s) URL (an internal address is fine). */
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'must be an absolute http(s) URL such as https://events.cpo.example/ocpi' },
  )
  @MaxLength(2048)
  url!: string;

  /** The events it wants, at least one. */
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...CONNECTION_EVENTS] } })
  @IsArray({ message: `must be a list of events among ${CONNECTION_EVENTS.join(', ')}` })
  @ArrayMinSize(1, { message: 'must name at least one event' })
  @ArrayUnique({ message: 'must not name an event twice' })
  @IsIn(CONNECTION_EVENTS, {
    each: true,
    message: `each must be one of ${CONNECTION_EVENTS.join(', ')}`,
  })
  events!: ConnectionEvent[];
}

/** A receiver of connection events. Never its secret. */
export class WebhookDto {
  id!: string;
  url!: string;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...CONNECTION_EVENTS] } })
  events!: ConnectionEvent[];
  /**
   * The organisation whose operations' events it receives (made by a key bound to it); null: the
   * events of every operation.
   */
  organisation_id!: string | null;
  created_at!: Date;
}

/** A new receiver, with its secret shown this once. */
export class CreatedWebhookDto extends WebhookDto {
  /**
   * The signing secret, Standard Webhooks form (`whsec_` + base64 of the key): give it to the
   * receiver's verifier. Shown once.
   */
  secret!: string;
}

export class WebhookPageDto {
  /** Oldest first. */
  items!: WebhookDto[];
  total!: number;
  offset!: number;
  limit!: number;
}

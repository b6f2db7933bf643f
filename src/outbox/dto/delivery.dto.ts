import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery.entity.js';

/** A push kept in the outbox (DESIGN 9.3). Never its body, never a token. */
export class DeliveryDto {
  id!: string;
  /** The peer's module it goes to. @example locations */
  identifier!: string;
  /** @example PUT */
  method!: string;
  /** Path and query under the module's endpoint. @example /FR/AB1/LOC1 */
  path!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES })
  status!: DeliveryStatus;
  /** Attempts started so far. */
  attempts!: number;
  /** Why the last attempt failed, or why it is dead. */
  last_error!: string | null;
  created_at!: Date;
  /** When it may be tried next (while PENDING). */
  next_attempt_at!: Date;
  delivered_at!: Date | null;
}

export class DeliveryPageDto {
  /** Newest first. */
  items!: DeliveryDto[];
  total!: number;
  offset!: number;
  limit!: number;
}

/** `?status=&offset=&limit=` of the deliveries list. */
export class DeliveryQueryDto extends PageQueryDto {
  /** Only the deliveries in this status; all of them when absent. */
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;
}

/** The answer to a `Prefer: respond-async` push: it is committed to the outbox. */
export class DeliveryAcceptedDto {
  delivery_id!: string;
}

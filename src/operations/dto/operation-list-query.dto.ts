import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto.js';
import {
  CONNECTION_STATUSES,
  HEALTH_STATUSES,
  type ConnectionStatus,
  type HealthStatus,
} from '../connection.entity.js';

/** `GET /admin/operations`: a page, and which operations to list. */
export class OperationListQueryDto extends PageQueryDto {
  /** Only the operations whose connection has this status. */
  @ApiPropertyOptional({ enum: CONNECTION_STATUSES })
  @IsOptional()
  @IsIn(CONNECTION_STATUSES, { message: `must be one of ${CONNECTION_STATUSES.join(', ')}` })
  connection_status?: ConnectionStatus;

  /**
   * Only the registered operations whose connection's health is this one (`DOWN`: which of mine
   * are down?); an unregistered connection has no health to match.
   */
  @ApiPropertyOptional({ enum: HEALTH_STATUSES })
  @IsOptional()
  @IsIn(HEALTH_STATUSES, { message: `must be one of ${HEALTH_STATUSES.join(', ')}` })
  health?: HealthStatus;
}

import { Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { UuidParam } from '../common/uuid-param.js';
import type { Operation } from '../operations/operation.entity.js';
import { ApiOperationParam, OperationRef } from '../operations/operation.pipe.js';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryDto, DeliveryPageDto, DeliveryQueryDto } from './dto/delivery.dto.js';

/** The operation's store-and-forward pushes (DESIGN 9.3): what waits, what went, what died. */
@Controller('admin/operations/:operation/deliveries')
@ApiTags('outbox')
@AdminApi()
@ApiOperationParam()
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  /** The operation's deliveries, newest first, by status; never their bodies. */
  @Get()
  @RequireScope('operations:read')
  list(
    @OperationRef() operation: Operation,
    @Query() query: DeliveryQueryDto,
  ): Promise<DeliveryPageDto> {
    return this.deliveries.list(operation, query);
  }

  /** Sends a dead delivery again: back to the end of its queue, its attempts from zero. */
  @Post(':id/retry')
  @RequireScope('operations:write')
  @HttpCode(200)
  @ApiConflictResponse({ description: 'The delivery is not dead', type: ErrorBodyDto })
  retry(@OperationRef() operation: Operation, @UuidParam() id: string): Promise<DeliveryDto> {
    return this.deliveries.retry(operation, id);
  }

  /** Drops a pending or dead delivery for good; its queue goes on without it. */
  @Delete(':id')
  @RequireScope('operations:write')
  @HttpCode(204)
  @ApiConflictResponse({
    description:
      'The delivery was delivered, or is being sent or next in line at this moment (try again shortly)',
    type: ErrorBodyDto,
  })
  drop(@OperationRef() operation: Operation, @UuidParam() id: string): Promise<void> {
    return this.deliveries.drop(operation, id);
  }
}

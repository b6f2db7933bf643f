import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { PageQueryDto } from '../common/dto/page-query.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { ApiOperationParam, OperationRef } from '../operations/operation.pipe.js';
import { HandshakePageDto } from './dto/handshake.dto.js';
import { HandshakeHistoryService } from './handshake-history.service.js';

@Controller('admin/operations/:operation/handshakes')
@ApiTags('handshake')
@AdminApi()
@ApiOperationParam()
export class HandshakesController {
  constructor(private readonly history: HandshakeHistoryService) {}

  /** Every handshake of the operation, newest first, with its calls to the peer. */
  @Get()
  @RequireScope('operations:read')
  handshakes(
    @OperationRef() operation: Operation,
    @Query() page: PageQueryDto,
  ): Promise<HandshakePageDto> {
    return this.history.list(operation.id, page);
  }
}

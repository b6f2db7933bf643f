import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../common/admin-auth.guard.js';
import { PageQueryDto } from '../common/dto/page-query.dto.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { OPERATION_PARAM } from '../operations/operations.controller.js';
import { OperationsService } from '../operations/operations.service.js';
import { ConnectionDto, toConnectionDto } from './dto/connection.dto.js';
import { HandshakePageDto } from './dto/handshake.dto.js';
import { HandshakeHistoryService } from './handshake-history.service.js';

@Controller('admin/operations/:operation')
@ApiTags('handshake')
@AdminApi()
@ApiParam(OPERATION_PARAM)
@ApiNotFoundResponse({ description: 'No such operation', type: ErrorBodyDto })
export class ConnectionController {
  constructor(
    private readonly operations: OperationsService,
    private readonly history: HandshakeHistoryService,
  ) {}

  /** The operation's OCPI connection with its peer. */
  @Get('connection')
  async connection(@Param('operation') ref: string): Promise<ConnectionDto> {
    return toConnectionDto((await this.operations.getEntity(ref)).connection);
  }

  /** Every handshake of the operation, newest first, with its calls to the peer. */
  @Get('handshakes')
  async handshakes(
    @Param('operation') ref: string,
    @Query() page: PageQueryDto,
  ): Promise<HandshakePageDto> {
    const operation = await this.operations.getEntity(ref);
    return this.history.list(operation.id, page);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { CreateOperationDto } from './dto/create-operation.dto.js';
import { OperationListQueryDto } from './dto/operation-list-query.dto.js';
import { OperationDto, OperationPageDto } from './dto/operation.dto.js';
import { UpdateOperationDto } from './dto/update-operation.dto.js';
import type { Operation } from './operation.entity.js';
import { ApiOperationParam, OperationRef } from './operation.pipe.js';
import { OperationsService } from './operations.service.js';

const ORGANISATION_403 = '`organisation_id` set by a key rather than the provider';

@Controller('admin/operations')
@ApiTags('operations')
@AdminApi()
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  /** Adds an operation (tenant) with its own OCPI versions URL. */
  @Post()
  @RequireScope('operations:write', ORGANISATION_403)
  @ApiConflictResponse({
    description: 'The operator id exists already, or a concurrent change got in the way',
    type: ErrorBodyDto,
  })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateOperationDto,
  ): Promise<OperationDto> {
    return this.operations.create(dto, principal);
  }

  /**
   * Lists operations by operator id, one page at a time (a bound key: its organisation's);
   * `connection_status` and `health` keep only those that match (both: both must).
   */
  @Get()
  @RequireScope('operations:read')
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: OperationListQueryDto,
  ): Promise<OperationPageDto> {
    return this.operations.list(query, principal.organisationId);
  }

  /** One operation with its connection. */
  @Get(':operation')
  @RequireScope('operations:read')
  @ApiOperationParam()
  get(@OperationRef() operation: Operation): OperationDto {
    return this.operations.toDto(operation);
  }

  /** Changes the business details or the advertised endpoints (each replaced as a whole). */
  @Patch(':operation')
  @RequireScope('operations:write', ORGANISATION_403)
  @ApiOperationParam()
  @ApiConflictResponse({
    description: 'A concurrent change of the operation got in the way: read it again, then retry',
    type: ErrorBodyDto,
  })
  update(
    @CurrentPrincipal() principal: Principal,
    @OperationRef() operation: Operation,
    @Body() dto: UpdateOperationDto,
  ): Promise<OperationDto> {
    return this.operations.update(operation, dto, principal);
  }

  /** Removes an operation that is not registered with its peer. */
  @Delete(':operation')
  @HttpCode(204)
  @RequireScope('operations:write')
  @ApiOperationParam()
  @ApiConflictResponse({
    description: 'The operation is registered, or a handshake or another change is under way',
    type: ErrorBodyDto,
  })
  remove(@OperationRef() operation: Operation): Promise<void> {
    return this.operations.remove(operation);
  }
}

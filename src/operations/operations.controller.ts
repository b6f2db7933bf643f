import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AdminApi } from '../common/admin-auth.guard.js';
import { PageQueryDto } from '../common/dto/page-query.dto.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { CreateOperationDto } from './dto/create-operation.dto.js';
import { OperationDto, OperationPageDto } from './dto/operation.dto.js';
import { UpdateOperationDto } from './dto/update-operation.dto.js';
import { OperationsService } from './operations.service.js';

export const OPERATION_PARAM = {
  name: 'operation',
  description: 'Operator id (`FR*AB1`, `FRAB1`, any case) or the operation id',
  example: 'FR*AB1',
};

@Controller('admin/operations')
@ApiTags('operations')
@AdminApi()
@ApiBadRequestResponse({
  description: 'Invalid input; each bad field is named',
  type: ErrorBodyDto,
})
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  /** Adds an operation (tenant) with its own OCPI versions URL. */
  @Post()
  @ApiConflictResponse({ description: 'The operator id exists already', type: ErrorBodyDto })
  create(@Body() dto: CreateOperationDto): Promise<OperationDto> {
    return this.operations.create(dto);
  }

  /** Lists operations by operator id, one page at a time. */
  @Get()
  list(@Query() page: PageQueryDto): Promise<OperationPageDto> {
    return this.operations.list(page);
  }

  /** One operation with its connection. */
  @Get(':operation')
  @ApiParam(OPERATION_PARAM)
  @ApiNotFoundResponse({ description: 'No such operation', type: ErrorBodyDto })
  get(@Param('operation') ref: string): Promise<OperationDto> {
    return this.operations.get(ref);
  }

  /** Changes the business details or the advertised endpoints (each replaced as a whole). */
  @Patch(':operation')
  @ApiParam(OPERATION_PARAM)
  @ApiNotFoundResponse({ description: 'No such operation', type: ErrorBodyDto })
  update(@Param('operation') ref: string, @Body() dto: UpdateOperationDto): Promise<OperationDto> {
    return this.operations.update(ref, dto);
  }

  /** Removes an operation that is not registered with its peer. */
  @Delete(':operation')
  @HttpCode(204)
  @ApiParam(OPERATION_PARAM)
  @ApiNotFoundResponse({ description: 'No such operation', type: ErrorBodyDto })
  @ApiConflictResponse({ description: 'The operation is registered', type: ErrorBodyDto })
  remove(@Param('operation') ref: string): Promise<void> {
    return this.operations.remove(ref);
  }
}

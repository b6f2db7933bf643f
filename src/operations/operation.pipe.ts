import { applyDecorators, Injectable, Param, type PipeTransform } from '@nestjs/common';
import { ApiNotFoundResponse, ApiParam } from '@nestjs/swagger';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import type { Operation } from './operation.entity.js';
import { OperationsService } from './operations.service.js';

/** Turns the `{operation}` of an admin path into the operation with its connection (404 if none). */
@Injectable()
export class OperationPipe implements PipeTransform<string, Promise<Operation>> {
  constructor(private readonly operations: OperationsService) {}

  transform(ref: string): Promise<Operation> {
    return this.operations.resolve(ref);
  }
}

/** The operation named by the `{operation}` path parameter of an admin route. */
export const OperationRef = (): ParameterDecorator => Param('operation', OperationPipe);

/** Documents the `{operation}` path parameter and its 404. */
export function ApiOperationParam(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiParam({
      name: 'operation',
      type: String,
      description: 'Operator id (`FR*AB1`, `FRAB1`, any case) or the operation id',
      example: 'FR*AB1',
    }),
    ApiNotFoundResponse({ description: 'No such operation', type: ErrorBodyDto }),
  );
}

import { applyDecorators, Injectable, type PipeTransform } from '@nestjs/common';
import { ApiNotFoundResponse, ApiParam } from '@nestjs/swagger';
import { OperationParam, type OperationRequest } from '../auth/principal.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import type { Operation } from './operation.entity.js';
import { OperationsService } from './operations.service.js';

/**
 * Turns the `{operation}` of an admin path into the operation with its connection: 404 if none,
 * or if it is another organisation's than the caller's key's (as if it did not exist).
 */
@Injectable()
export class OperationPipe implements PipeTransform<OperationRequest, Promise<Operation>> {
  constructor(private readonly operations: OperationsService) {}

  transform({ ref, principal }: OperationRequest): Promise<Operation> {
    return this.operations.resolve(ref, principal.organisationId);
  }
}

/**
 * The operation named by the `{operation}` path parameter of an admin route, as the caller may
 * see it (its organisation's only, for a bound key).
 */
export const OperationRef = (): ParameterDecorator => OperationParam(OperationPipe);

/** Documents the `{operation}` path parameter and its 404. */
export function ApiOperationParam(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiParam({
      name: 'operation',
      type: String,
      description: 'Operator id (`FR*AB1`, `FRAB1`, any case) or the operation id',
      example: 'FR*AB1',
    }),
    ApiNotFoundResponse({
      description: "No such operation (another organisation's is none either)",
      type: ErrorBodyDto,
    }),
  );
}

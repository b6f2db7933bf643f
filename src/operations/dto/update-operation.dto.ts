import { OmitType, PartialType } from '@nestjs/swagger';
import { CreateOperationDto } from './create-operation.dto.js';

/** What can change on an operation; the operator id cannot. Lists are replaced, not merged. */
export class UpdateOperationDto extends PartialType(
  OmitType(CreateOperationDto, ['operator_id'] as const),
) {}

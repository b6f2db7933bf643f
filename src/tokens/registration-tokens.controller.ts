import { Body, Controller, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { ApiOperationParam, OperationRef } from '../operations/operation.pipe.js';
import { OperationsService } from '../operations/operations.service.js';
import { CreateRegistrationTokenDto, RegistrationTokenDto } from './dto/registration-token.dto.js';
import { TokensService } from './tokens.service.js';

@Controller('admin/operations/:operation/registration-tokens')
@ApiTags('handshake')
@AdminApi()
export class RegistrationTokensController {
  constructor(
    private readonly operations: OperationsService,
    private readonly tokens: TokensService,
  ) {}

  /** Issues a token A for the peer to register with (FromIOP). Shown once. */
  @Post()
  @RequireScope('operations:write')
  @ApiOperationParam()
  @ApiConflictResponse({
    description:
      'The operation is registered, has MAX_ACTIVE_REGISTRATION_TOKENS tokens A, or a concurrent change got in the way',
    type: ErrorBodyDto,
  })
  async issue(
    @OperationRef() operation: Operation,
    @Body() dto: CreateRegistrationTokenDto,
  ): Promise<RegistrationTokenDto> {
    const { token, expiresAt } = await this.tokens.issueRegistrationToken(
      operation,
      dto.expires_in_s,
    );
    return { token, expires_at: expiresAt, versions_url: this.operations.versionsUrl(operation) };
  }
}

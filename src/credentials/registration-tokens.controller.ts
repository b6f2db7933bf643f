import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../common/admin-auth.guard.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { OPERATION_PARAM } from '../operations/operations.controller.js';
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
  @ApiParam(OPERATION_PARAM)
  @ApiNotFoundResponse({ description: 'No such operation', type: ErrorBodyDto })
  @ApiConflictResponse({ description: 'The operation is registered', type: ErrorBodyDto })
  async issue(
    @Param('operation') ref: string,
    @Body() dto: CreateRegistrationTokenDto,
  ): Promise<RegistrationTokenDto> {
    const operation = await this.operations.getEntity(ref);
    const { token, expiresAt } = await this.tokens.issueRegistrationToken(
      operation.id,
      dto.expires_in_s,
    );
    return { token, expires_at: expiresAt, versions_url: this.operations.versionsUrl(operation) };
  }
}

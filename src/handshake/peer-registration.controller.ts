import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { ApiErrors } from '../common/api-errors.js';
import { ConnectionDto } from '../operations/dto/connection.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { ApiOperationParam, OperationRef } from '../operations/operation.pipe.js';
import { RegisterDto, UnregisterDto } from './dto/register.dto.js';
import { PeerRegistrationService } from './peer-registration.service.js';

/** What a handshake started from the admin API may answer besides its success and AdminApi's. */
function HandshakeErrors(conflict: string): MethodDecorator {
  return ApiErrors({
    409: `${conflict}, or another handshake is running`,
    502: 'The peer failed: the `step` it failed in, the `error`, its OCPI `status_code` if any',
  });
}

/** The handshakes we start (ToIOP). */
@Controller('admin/operations/:operation')
@ApiTags('handshake')
@AdminApi()
@ApiOperationParam()
export class PeerRegistrationController {
  constructor(private readonly registration: PeerRegistrationService) {}

  /** Registers the operation with the peer (ToIOP): GET its versions and details, POST our credentials. */
  @Post('register')
  @HttpCode(200)
  @RequireScope('handshakes')
  @HandshakeErrors('Registered already')
  register(
    @OperationRef() operation: Operation,
    @Body() body: RegisterDto,
  ): Promise<ConnectionDto> {
    return this.registration.register(operation, body);
  }

  /** Rotates our credentials with the peer (ToIOP PUT). */
  @Post('update-credentials')
  @HttpCode(200)
  @RequireScope('handshakes')
  @HandshakeErrors('Not registered')
  updateCredentials(@OperationRef() operation: Operation): Promise<ConnectionDto> {
    return this.registration.updateCredentials(operation);
  }

  /** Unregisters from the peer (ToIOP DELETE); `force` also ends it locally if the peer cannot be told. */
  @Post('unregister')
  @HttpCode(200)
  @RequireScope('handshakes')
  @HandshakeErrors('Not registered')
  unregister(
    @OperationRef() operation: Operation,
    @Body() body: UnregisterDto,
  ): Promise<ConnectionDto> {
    return this.registration.unregister(operation, body.force === true);
  }
}

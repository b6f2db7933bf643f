import { applyDecorators, Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AdminApi } from '../common/admin-auth.guard.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { OPERATION_PARAM } from '../operations/operations.controller.js';
import { ConnectionDto } from './dto/connection.dto.js';
import { PeerTokenDto, RegisterDto, UnregisterDto } from './dto/register.dto.js';
import { PeerRegistrationService } from './peer-registration.service.js';

/** What a handshake started from the admin API may answer besides its success. */
function HandshakeErrors(conflict: string): MethodDecorator {
  return applyDecorators(
    ApiConflictResponse({
      description: `${conflict}, or another handshake is running`,
      type: ErrorBodyDto,
    }),
    ApiBadGatewayResponse({
      description: 'The peer failed: `step`, `error`, its `status_code`',
      type: ErrorBodyDto,
    }),
  );
}

/** The handshakes we start (ToIOP). */
@Controller('admin/operations/:operation')
@ApiTags('handshake')
@AdminApi()
@ApiParam(OPERATION_PARAM)
@ApiNotFoundResponse({ description: 'No such operation', type: ErrorBodyDto })
export class PeerRegistrationController {
  constructor(private readonly registration: PeerRegistrationService) {}

  /** Registers the operation with the peer (ToIOP): GET its versions and details, POST our credentials. */
  @Post('register')
  @HttpCode(200)
  @HandshakeErrors('Registered already')
  register(@Param('operation') ref: string, @Body() body: RegisterDto): Promise<ConnectionDto> {
    return this.registration.register(ref, body);
  }

  /** Rotates our credentials with the peer (ToIOP PUT). */
  @Post('update-credentials')
  @HttpCode(200)
  @HandshakeErrors('Not registered')
  updateCredentials(@Param('operation') ref: string): Promise<ConnectionDto> {
    return this.registration.updateCredentials(ref);
  }

  /** Unregisters from the peer (ToIOP DELETE); `force` also ends it locally if the peer cannot be told. */
  @Post('unregister')
  @HttpCode(200)
  @HandshakeErrors('Not registered')
  unregister(@Param('operation') ref: string, @Body() body: UnregisterDto): Promise<ConnectionDto> {
    return this.registration.unregister(ref, body.force === true);
  }

  /** The token the CPO's other systems present to the peer (locations, sessions, CDRs…). */
  @Get('connection/peer-token')
  async peerToken(@Param('operation') ref: string): Promise<PeerTokenDto> {
    return { token: await this.registration.peerTokenOf(ref) };
  }
}

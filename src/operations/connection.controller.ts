import { Controller, Get } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { ConnectionsService } from './connections.service.js';
import { ConnectionDto, PeerTokenDto, toConnectionDto } from './dto/connection.dto.js';
import type { Operation } from './operation.entity.js';
import { ApiOperationParam, OperationRef } from './operation.pipe.js';

@Controller('admin/operations/:operation/connection')
@ApiTags('handshake')
@AdminApi()
@ApiOperationParam()
export class ConnectionController {
  constructor(private readonly connections: ConnectionsService) {}

  /** The operation's OCPI connection with its peer. */
  @Get()
  @RequireScope('operations:read')
  connection(@OperationRef() operation: Operation): ConnectionDto {
    return toConnectionDto(operation.connection);
  }

  /** The token the CPO's other systems present to the peer (locations, sessions, CDRs…). */
  @Get('peer-token')
  @RequireScope('peer-token')
  @ApiNotFoundResponse({
    description: 'No such operation, or it is not registered (there is no peer token)',
    type: ErrorBodyDto,
  })
  async peerToken(@OperationRef() operation: Operation): Promise<PeerTokenDto> {
    return { token: await this.connections.handOutPeerToken(operation) };
  }
}

import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../auth/admin-auth.guard.js';
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
  connection(@OperationRef() operation: Operation): ConnectionDto {
    return toConnectionDto(operation.connection);
  }

  /** The token the CPO's other systems present to the peer (locations, sessions, CDRs…). */
  @Get('peer-token')
  async peerToken(@OperationRef() operation: Operation): Promise<PeerTokenDto> {
    return { token: await this.connections.handOutPeerToken(operation) };
  }
}

import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { ApiErrors } from '../common/api-errors.js';
import { ConnectionHealthDto } from '../operations/dto/connection.dto.js';
import type { Operation } from '../operations/operation.entity.js';
import { ApiOperationParam, OperationRef } from '../operations/operation.pipe.js';
import { ConnectionHealthService } from './connection-health.service.js';

@Controller('admin/operations/:operation/connection')
@ApiTags('handshake')
@AdminApi()
@ApiOperationParam()
export class ConnectionProbeController {
  constructor(private readonly health: ConnectionHealthService) {}

  /**
   * Probes the connection now (GET the peer's versions with its token) and answers its new
   * health; the scheduled probes keep their turn.
   */
  @Post('probe')
  @RequireScope('handshakes')
  @HttpCode(200)
  @ApiErrors({
    409: 'Not registered; or a probe of it is under way, or a handshake changed it meanwhile: read the connection, or probe again',
  })
  probe(@OperationRef() operation: Operation): Promise<ConnectionHealthDto> {
    return this.health.probeNow(operation);
  }
}

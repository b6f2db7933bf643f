import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { ADMIN_AUTH_SCHEME } from '../auth/admin-auth.guard.js';
import { MetricsAuthGuard } from '../auth/metrics-auth.guard.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { MetricsService } from './metrics.service.js';

@Controller('metrics')
@ApiTags('metrics')
@UseGuards(MetricsAuthGuard)
@ApiBearerAuth(ADMIN_AUTH_SCHEME)
@ApiUnauthorizedResponse({ description: 'Missing or wrong token', type: ErrorBodyDto })
@ApiTooManyRequestsResponse({
  description: 'Too many failed authentications from this address',
  type: ErrorBodyDto,
})
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /**
   * Prometheus metrics of this replica: requests by route and status, handshakes by action,
   * initiator and outcome, operations by connection status, the database pool, the process.
   * Authorize with METRICS_TOKEN or the admin token.
   */
  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format', type: String })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { RequireScope } from '../auth/access.decorators.js';
import { AccessGuard } from '../auth/access.guard.js';
import { ADMIN_AUTH_SCHEME } from '../auth/admin-auth.guard.js';
import { ApiErrors, REQUEST_ERRORS, TOO_MANY_FAILURES } from '../common/api-errors.js';
import { MetricsService } from './metrics.service.js';

@Controller('metrics')
@ApiTags('metrics')
@UseGuards(AccessGuard)
@ApiBearerAuth(ADMIN_AUTH_SCHEME)
// No 503: with the database away, the scrape answers in time without the count of operations.
@ApiErrors({
  ...REQUEST_ERRORS,
  401: 'Missing or wrong token: METRICS_TOKEN, the admin token or an API key',
  429: TOO_MANY_FAILURES,
  500: 'Internal error; its detail is in the log only',
})
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /**
   * Prometheus metrics of this replica: requests by route and status, handshakes by action,
   * initiator and outcome, operations by connection status, the database pool, the process.
   * Service-wide (no operation labels): METRICS_TOKEN, the admin token, or an API key with scope
   * `metrics`, which only an unbound key can have.
   */
  @Get()
  @RequireScope('metrics')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format', type: String })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

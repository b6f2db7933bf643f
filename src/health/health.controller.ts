import { applyDecorators, Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags, type SchemaObject } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { ApiErrors, REQUEST_ERRORS } from '../common/api-errors.js';

/** What each check found, by name (`database`). */
const INDICATORS: SchemaObject = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: ['up', 'down'] },
      responseTime: { type: 'number', description: 'How long the check took, in ms' },
    },
    additionalProperties: true,
  },
};

/** Terminus's answer when every check passed. */
const HEALTHY: SchemaObject = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    info: { ...INDICATORS, example: { database: { status: 'up', responseTime: 3 } } },
    error: { ...INDICATORS, example: {} },
    details: { ...INDICATORS, example: { database: { status: 'up', responseTime: 3 } } },
  },
};

/**
 * A health check route. Terminus documents its 503 with the check results, but the exception
 * filter answers it as every other error, with the admin error body: so Terminus's documentation
 * is off, and this says what is sent.
 */
const HealthRoute = () =>
  applyDecorators(
    HealthCheck({ noCache: true, swaggerDocumentation: false }),
    ApiOkResponse({ description: 'Healthy', schema: HEALTHY }),
  );

@Controller('health')
@ApiTags('health')
@ApiErrors({
  ...REQUEST_ERRORS,
  500: 'Internal error; its detail is in the log only',
  503: 'Not healthy: the service is shutting down, or (readiness) the database did not answer within 2 s',
})
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  @HealthRoute()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Readiness: the database answers too. */
  @Get('ready')
  @HealthRoute()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 })]);
  }
}

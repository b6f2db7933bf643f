import {
  applyDecorators,
  Controller,
  Delete,
  Get,
  Injectable,
  Patch,
  Post,
  Put,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiBearerAuth, ApiExtraModels, ApiHeader, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthFailureLimiter } from '../auth/auth-failure-limiter.js';
import { BearerTokenGuard } from '../auth/admin-auth.guard.js';
import {
  ApiErrors,
  REQUEST_ERRORS,
  SERVER_ERRORS,
  TOO_MANY_FAILURES,
} from '../common/api-errors.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import type { AppConfig } from '../config/app-config.js';
import { ApiOperationParam } from '../operations/operation.pipe.js';
import { ApiForwarded } from './api-forwarded.js';
import { Relay } from './relay.js';
import { ApiRespondAsync } from './relay-outbox.js';
import { RelayTargetRef, type RelayTarget } from './relay-targets.js';

export const RELAY_AUTH_SCHEME = 'relay';

/** `Authorization: Bearer {RELAY_TOKEN}`: it opens /relay and nothing else. */
@Injectable()
export class RelayAuthGuard extends BearerTokenGuard {
  constructor(config: ConfigService<AppConfig, true>, limiter: AuthFailureLimiter) {
    const token = config.get('relayToken', { infer: true });
    super(
      limiter,
      'relay',
      token ? [token] : [],
      token ? 'The relay token (RELAY_TOKEN)' : 'RELAY_TOKEN is not set on this service, so',
    );
  }
}

/** A module of the peer (`locations`), and any path under it (`locations/FR/AB1/LOC1`). */
const MODULE_PATHS = ':operation/*path';

const RELAY_ERRORS = {
  404: "No such operation, or the peer offers no such module (its version details' endpoints)",
  409: 'The operation is not registered with its peer (a `respond-async` push: it never was)',
  413: 'The body is larger than UPSTREAM_MAX_BODY_BYTES',
  502: 'The peer could not be reached, gave no answer within PEER_TIMEOUT_MS, or its URL breaks the peer URL rules (`step: "relay"`)',
};

/** What every call through the relay is and may answer. */
function RelayCall(): MethodDecorator {
  return ApiForwarded('The peer', RELAY_ERRORS, { admin: true });
}

/** A call to one of the peer's modules. */
function RelayModuleCall(): MethodDecorator {
  return applyDecorators(
    RelayCall(),
    ApiParam({
      name: 'path',
      description:
        "A module of the peer's version details, then any path under its endpoint (without . " +
        'or .. segments)',
      schema: { type: 'string', format: 'path', example: 'locations/FR/AB1/LOC1' },
    }),
  );
}

/**
 * The relay (DESIGN 9.2): the CPO's systems call the peer of an operation through it, and it
 * presents the peer's token for them. The methods OCPI 2.1.1 modules use, and the form for URLs
 * the peer handed out.
 */
@Controller('relay')
@ApiTags('relay')
@ApiExtraModels(ErrorBodyDto)
@UseGuards(RelayAuthGuard)
@ApiBearerAuth(RELAY_AUTH_SCHEME)
@ApiOperationParam()
@ApiErrors({
  ...REQUEST_ERRORS,
  401: 'Missing or wrong relay token (the admin token does not open the relay)',
  429: TOO_MANY_FAILURES,
  ...SERVER_ERRORS,
})
export class RelayController {
  constructor(private readonly relay: Relay) {}

  /**
   * To a URL the peer handed out in a message (a command's `response_url`), given in
   * `X-OCPI-Target-URL`; only on the origin of one of the peer's endpoints.
   */
  @Post(':operation/url')
  @RelayCall()
  @ApiHeader({
    name: 'X-OCPI-Target-URL',
    required: true,
    description: "A URL the peer handed out, on the origin of one of the peer's endpoints",
  })
  url(@RelayTargetRef() target: RelayTarget, @Req() req: Request, @Res() res: Response) {
    return this.relay.toUrl(req, res, target);
  }

  /** Reads from the peer's module (objects, paged lists: follow the rewritten `Link`). */
  @Get(MODULE_PATHS)
  @RelayModuleCall()
  get(@RelayTargetRef() target: RelayTarget, @Req() req: Request, @Res() res: Response) {
    return this.relay.toModule(req, res, target);
  }

  /** Sends to the peer's module (a CDR, a command, an authorization). */
  @Post(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  post(@RelayTargetRef() target: RelayTarget, @Req() req: Request, @Res() res: Response) {
    return this.relay.toModule(req, res, target);
  }

  /** Stores an object at the peer (a location, a session, a tariff). */
  @Put(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  put(@RelayTargetRef() target: RelayTarget, @Req() req: Request, @Res() res: Response) {
    return this.relay.toModule(req, res, target);
  }

  /** Updates part of an object at the peer (an EVSE's status). */
  @Patch(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  patch(@RelayTargetRef() target: RelayTarget, @Req() req: Request, @Res() res: Response) {
    return this.relay.toModule(req, res, target);
  }

  /** Removes an object at the peer (a tariff). */
  @Delete(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  delete(@RelayTargetRef() target: RelayTarget, @Req() req: Request, @Res() res: Response) {
    return this.relay.toModule(req, res, target);
  }
}

import {
  applyDecorators,
  Controller,
  Delete,
  Get,
  Patch,
  Post,
  Put,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiHeader, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireScope } from '../auth/access.decorators.js';
import { AccessGuard } from '../auth/access.guard.js';
import { OperationParam, type OperationRequest } from '../auth/principal.js';
import { ADMIN_AUTH_SCHEME } from '../auth/admin-auth.guard.js';
import {
  ApiErrors,
  REQUEST_ERRORS,
  SERVER_ERRORS,
  TOO_MANY_FAILURES,
} from '../common/api-errors.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { ApiOperationParam } from '../operations/operation.pipe.js';
import { ApiForwarded } from './api-forwarded.js';
import { Relay } from './relay.js';
import { ApiRespondAsync } from './relay-outbox.js';
import { RelayTargetRef, type RelayTarget } from './relay-targets.js';

export const RELAY_AUTH_SCHEME = 'relay';

/** A module of the peer (`locations`), and any path under it (`locations/FR/AB1/LOC1`). */
const MODULE_PATHS = ':operation/*path';

const RELAY_ERRORS = {
  404: "No such operation, or the peer offers no such module (its version details' endpoints)",
  409: 'The operation is not registered with its peer (a `respond-async` push: it never was)',
  413: 'The body is larger than UPSTREAM_MAX_BODY_BYTES',
  502: 'The peer could not be reached, gave no answer within PEER_TIMEOUT_MS, or its URL breaks the peer URL rules (`step: "relay"`)',
};

/** What every call through the relay is, needs and may answer. */
function RelayCall(): MethodDecorator {
  return applyDecorators(
    RequireScope('relay'),
    ApiForwarded('The peer', RELAY_ERRORS, { admin: true }),
  );
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
@UseGuards(AccessGuard)
// Either scheme: RELAY_TOKEN, or the admin token or an API key with scope relay.
@ApiBearerAuth(RELAY_AUTH_SCHEME)
@ApiBearerAuth(ADMIN_AUTH_SCHEME)
@ApiOperationParam()
@ApiErrors({
  ...REQUEST_ERRORS,
  401: 'Missing or wrong token: RELAY_TOKEN, the admin token or an API key',
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
  url(
    @OperationParam() call: OperationRequest,
    @RelayTargetRef() target: RelayTarget,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    return this.relay.toUrl(req, res, call, target);
  }

  /** Reads from the peer's module (objects, paged lists: follow the rewritten `Link`). */
  @Get(MODULE_PATHS)
  @RelayModuleCall()
  get(
    @OperationParam() call: OperationRequest,
    @RelayTargetRef() target: RelayTarget,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    return this.relay.toModule(req, res, call, target);
  }

  /** Sends to the peer's module (a CDR, a command, an authorization). */
  @Post(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  post(
    @OperationParam() call: OperationRequest,
    @RelayTargetRef() target: RelayTarget,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    return this.relay.toModule(req, res, call, target);
  }

  /** Stores an object at the peer (a location, a session, a tariff). */
  @Put(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  put(
    @OperationParam() call: OperationRequest,
    @RelayTargetRef() target: RelayTarget,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    return this.relay.toModule(req, res, call, target);
  }

  /** Updates part of an object at the peer (an EVSE's status). */
  @Patch(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  patch(
    @OperationParam() call: OperationRequest,
    @RelayTargetRef() target: RelayTarget,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    return this.relay.toModule(req, res, call, target);
  }

  /** Removes an object at the peer (a tariff). */
  @Delete(MODULE_PATHS)
  @RelayModuleCall()
  @ApiRespondAsync()
  delete(
    @OperationParam() call: OperationRequest,
    @RelayTargetRef() target: RelayTarget,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    return this.relay.toModule(req, res, call, target);
  }
}

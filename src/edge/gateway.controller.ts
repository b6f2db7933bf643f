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
} from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { OCPI_VERSION } from '../ocpi/version.js';
import { OcpiAccess, OcpiAuth, OcpiController } from '../tokens/ocpi-token.guard.js';
import type { Authentication } from '../tokens/tokens.service.js';
import { ApiForwarded } from './api-forwarded.js';
import { ModuleGateway } from './module-gateway.js';

/** A module's own path (`locations`), and any path under it (`locations/FR/AB1/LOC1`). */
const MODULE_PATHS = '*path';

/** What every method of the gateway is: checked by the OCPI guard, answered by the upstream. */
function ModuleCall(): MethodDecorator {
  return applyDecorators(
    OcpiAccess('module'),
    ApiParam({
      name: 'path',
      description:
        'A module the operation serves behind the gateway (`upstream_url`), then any path under ' +
        'it, passed upstream as is (without . or .. segments)',
      schema: { type: 'string', format: 'path', example: 'locations/FR/AB1/LOC1' },
    }),
    ApiForwarded('The upstream', {
      401: 'Not the connection token of this operation (a token A or a grace token do not open modules)',
      404: 'No such operation, or the operation serves no such module behind the gateway',
      413: 'The body is larger than UPSTREAM_MAX_BODY_BYTES',
      502: 'The upstream could not be reached',
      504: 'The upstream sent no answer headers within UPSTREAM_TIMEOUT_MS',
    }),
  );
}

/**
 * The module gateway (DESIGN 9.1): the peer's calls to an operation's modules served behind it.
 * The methods OCPI 2.1.1 modules use, each to the same forwarding.
 */
@Controller(`ocpi/:countryCode/:partyId/${OCPI_VERSION}`)
@OcpiController('ocpi module gateway')
export class GatewayController {
  constructor(private readonly gateway: ModuleGateway) {}

  /** Reads from the module's upstream (objects, paged lists). */
  @Get(MODULE_PATHS)
  @ModuleCall()
  get(@OcpiAuth() auth: Authentication, @Req() req: Request, @Res() res: Response) {
    return this.gateway.forward(req, res, auth);
  }

  /** Sends to the module's upstream (a CDR, a command). */
  @Post(MODULE_PATHS)
  @ModuleCall()
  post(@OcpiAuth() auth: Authentication, @Req() req: Request, @Res() res: Response) {
    return this.gateway.forward(req, res, auth);
  }

  /** Stores an object at the module's upstream (a token, a session). */
  @Put(MODULE_PATHS)
  @ModuleCall()
  put(@OcpiAuth() auth: Authentication, @Req() req: Request, @Res() res: Response) {
    return this.gateway.forward(req, res, auth);
  }

  /** Updates part of an object at the module's upstream. */
  @Patch(MODULE_PATHS)
  @ModuleCall()
  patch(@OcpiAuth() auth: Authentication, @Req() req: Request, @Res() res: Response) {
    return this.gateway.forward(req, res, auth);
  }

  /** Removes an object at the module's upstream (a tariff). */
  @Delete(MODULE_PATHS)
  @ModuleCall()
  delete(@OcpiAuth() auth: Authentication, @Req() req: Request, @Res() res: Response) {
    return this.gateway.forward(req, res, auth);
  }
}

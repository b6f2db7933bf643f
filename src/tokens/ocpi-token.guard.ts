import {
  applyDecorators,
  createParamDecorator,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiOcpiErrors, OCPI_ROUTE_ERRORS } from '../ocpi/api-ocpi-response.js';
import { OcpiTokenCheck } from './ocpi-token-check.js';
import { mayRefuseWith405, type OcpiRoute } from './token-access.js';
import type { Authentication, PresentedToken } from './tokens.service.js';

const ROUTE_KEY = 'ocpi:route';

/** The OpenAPI security scheme of the OCPI routes: `Authorization: Token {token}`. */
export const OCPI_AUTH_SCHEME = 'ocpi-token';

type OcpiRequest = Request & { ocpi?: Authentication & { token: PresentedToken } };

/** The one guard of every OCPI route: {@link OcpiTokenCheck} with the route's access rules. */
@Injectable()
export class OcpiTokenGuard implements CanActivate {
  constructor(
    private readonly check: OcpiTokenCheck,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<OcpiRoute>(ROUTE_KEY, context.getHandler());
    const request = context.switchToHttp().getRequest<OcpiRequest>();
    const { countryCode, partyId } = request.params as Record<string, string>;
    request.ocpi = await this.check.check(route, {
      countryCode,
      partyId,
      authorization: request.headers.authorization,
      clientAddress: () => request.ip,
    });
    return true;
  }
}

/** The operation and token the guard resolved. */
export const OcpiAuth = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<OcpiRequest>().ocpi,
);

/**
 * Marks a controller as OCPI: documented with its path parameters, its token and the errors every
 * OCPI route may answer (in the OCPI envelope). Its handlers return
 * their envelope (`ocpiSuccess`) themselves rather than through an interceptor: Nest runs
 * interceptors through RxJS, which cost a fifth of the time of GET versions (npm run bench).
 */
export function OcpiController(tag: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiParam({ name: 'countryCode', example: 'FR', description: 'Country code of the operation' }),
    ApiParam({ name: 'partyId', example: 'AB1', description: 'Party id of the operation' }),
    ApiSecurity(OCPI_AUTH_SCHEME),
    ApiOcpiErrors(OCPI_ROUTE_ERRORS),
  );
}

/** Guards one OCPI handler with the access rules of its route, and documents its 405 if any. */
export function OcpiAccess(route: OcpiRoute): MethodDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_KEY, route),
    UseGuards(OcpiTokenGuard),
    ...(mayRefuseWith405(route)
      ? [
          ApiOcpiErrors({
            405: 'A token of this operation that the state of the connection does not allow here: the peer is registered already (POST), or not registered (PUT, DELETE)',
          }),
        ]
      : []),
  );
}

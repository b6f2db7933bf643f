import { timingSafeEqual } from 'node:crypto';
import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ACCESS, authorize, type Access } from './access.decorators.js';
import { describePrincipal, setPrincipal, type Principal } from './principal.js';
import { SCOPES } from './scopes.js';
import { hashToken } from '../common/crypto/tokens.js';
import type { AppConfig } from '../config/app-config.js';
import { requestFields } from '../logging/logging.module.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { KeyAuthenticator } from './key-authenticator.js';

/** A configured bearer token, by its SHA-256, and whom it stands for. */
interface ConfiguredToken {
  hash: Buffer;
  principal: Principal;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one authentication of /admin, /relay and /metrics (DESIGN 12): `Authorization: Bearer`
 * with ADMIN_TOKEN (the provider: every scope, every operation), METRICS_TOKEN (scope metrics),
 * RELAY_TOKEN (scope relay) or an API key, resolved into the request's {@link Principal}; then
 * the route's one access decorator ({@link Access}) says whether it may pass: 403 names what is
 * missing. Failures count in the failed-authentication limit, on the relay's budget for /relay
 * and the admin API's for the rest (/metrics takes the admin token, so it shares that budget).
 * Every admin write is logged with who made it (the key's id and name, never the key).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger('Access');
  private readonly tokens: ConfiguredToken[];

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly limiter: AuthFailureLimiter,
    private readonly keys: KeyAuthenticator,
    private readonly reflector: Reflector,
  ) {
    const configured = (
      token: string | undefined,
      name: string,
      kind: Principal['kind'],
      scopes: Principal['scopes'],
    ): ConfiguredToken[] =>
      token ? [{ hash: hashToken(token), principal: { kind, name, scopes } }] : [];
    this.tokens = [
      ...configured(config.get('adminToken', { infer: true }), 'ADMIN_TOKEN', 'provider', SCOPES),
      ...configured(config.get('metricsToken', { infer: true }), 'METRICS_TOKEN', 'token', [
        'metrics',
      ]),
      ...configured(config.get('relayToken', { infer: true }), 'RELAY_TOKEN', 'token', ['relay']),
    ];
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    // A route that forgot its decorator is closed, and the bug says where.
    if (!access)
      throw new Error(
        `${context.getClass().name}.${context.getHandler().name} has no access decorator`,
      );
    const request = context.switchToHttp().getRequest<Request>();
    const principal = await this.principalOf(
      request.path.toLowerCase().startsWith('/relay/') ? 'relay' : 'admin',
      request.headers.authorization,
      () => request.ip,
    );
    authorize(principal, access);
    setPrincipal(request, principal);
    if (!READS.has(request.method) && request.path.startsWith('/admin')) {
      this.logger.log(
        {
          ...requestFields(request),
          principal: {
            kind: principal.kind,
            name: principal.name,
            ...(principal.keyId && { key_id: principal.keyId }),
            ...(principal.organisationId && { organisation_id: principal.organisationId }),
          },
        },
        `Admin ${request.method} ${request.path} by ${describePrincipal(principal)}`,
      );
    }
    return true;
  }

  /**
   * Who `authorization` stands for; 401 when no one, counted against `clientAddress` (asked for
   * on failures only) in the relay's or the admin API's budget. Also for the relay's calls, which
   * the front serves ahead of Nest.
   */
  async principalOf(
    budget: 'relay' | 'admin',
    authorization: string | undefined,
    clientAddress: () => string | undefined,
  ): Promise<Principal> {
    const relay = budget === 'relay';
    // The scheme is case-insensitive (RFC 7235).
    const presented = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    const principal = presented === undefined ? undefined : await this.authenticate(presented);
    if (principal) return principal;
    return this.limiter.unauthorized(
      clientAddress(),
      relay ? 'relay' : 'admin',
      relay
        ? 'The relay token (RELAY_TOKEN), the admin token or an API key with scope relay is required: Authorization: Bearer {token}'
        : 'A valid admin token or API key is required: Authorization: Bearer {token}',
    );
  }

  private async authenticate(presented: string): Promise<Principal | undefined> {
    // Every configured token is compared, in constant time, so that the time taken tells nothing
    // of which was close; by hash, so that lengths tell nothing either. The configured tokens'
    // hashes are made once: hashing them at every call was a third of what the relay's check
    // cost (npm run bench's profile).
    const hash = hashToken(presented);
    const matches = this.tokens.filter((configured) => timingSafeEqual(hash, configured.hash));
    if (matches.length > 0) return matches[0].principal;
    return this.keys.authenticate(presented);
  }
}

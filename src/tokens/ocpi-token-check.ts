import { Injectable } from '@nestjs/common';
import { AuthFailureLimiter } from '../auth/auth-failure-limiter.js';
import { NotAllowedError, NotFoundError } from '../common/errors.js';
import { formatOperatorId, parseOperatorId } from '../operations/operator-id.js';
import { accessTo, type OcpiRoute } from './token-access.js';
import { TokensService, type Authentication, type PresentedToken } from './tokens.service.js';

const MAX_TOKEN_LENGTH = 64;

/** What a request presents to an OCPI route, as the check needs it. */
export interface OcpiCall {
  countryCode: string;
  partyId: string;
  /** The `Authorization` header as sent. */
  authorization: string | undefined;
  /** The caller's address, for the failed-authentication limit: asked for on failures only. */
  clientAddress: () => string | undefined;
}

/**
 * The token check of every OCPI route: resolves the operation from the path (unknown: 404), then
 * the presented `Authorization: Token {token}` (plain, no Base64 in 2.1.1) for that operation,
 * and checks the route allows that kind of token. The OCPI guard runs it for Nest's routes, the
 * front (src/front/front.ts) for the routes it serves ahead of Nest.
 */
@Injectable()
export class OcpiTokenCheck {
  constructor(
    private readonly tokens: TokensService,
    private readonly limiter: AuthFailureLimiter,
  ) {}

  async check(
    route: OcpiRoute,
    call: OcpiCall,
  ): Promise<Authentication & { token: PresentedToken }> {
    const { countryCode, partyId } = call;
    const operator = parseOperatorId(`${countryCode}*${partyId}`);
    const presented = presentedToken(call.authorization);
    let auth = operator && (await this.tokens.authenticate(operator, presented));
    const decide = (found: Authentication) => accessTo(route, found.token?.role);
    // The cache may not have heard yet of a change committed a moment ago (GIREVE's POST right
    // after its DELETE): a refusal is only given on what the database says now.
    if (operator && auth?.cached && decide(auth) !== 'allow') {
      auth = await this.tokens.authenticate(operator, presented, { fresh: true });
    }
    // Unknown operations count in one budget per address, so that operation ids cannot be
    // enumerated at full speed.
    if (!auth) {
      return this.limiter.fail(
        call.clientAddress(),
        'ocpi unknown-operation',
        new NotFoundError(`No operation ${countryCode}/${partyId}`),
      );
    }
    const decision = decide(auth);
    if (decision === 401 || !auth.token) {
      return this.limiter.unauthorized(
        call.clientAddress(),
        `ocpi ${formatOperatorId(auth.operation)}`,
        'A valid token of this operation is required: Authorization: Token {token}',
      );
    }
    if (decision === 405) {
      throw new NotAllowedError(
        auth.token.role === 'CONNECTION'
          ? 'The peer is registered already'
          : 'The peer is not registered',
      );
    }
    return { operation: auth.operation, token: auth.token, peer: auth.peer };
  }
}

function presentedToken(authorization: string | undefined): string | undefined {
  const match = /^Token (\S+)$/i.exec(authorization ?? '');
  return match && match[1].length <= MAX_TOKEN_LENGTH ? match[1] : undefined;
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { generateToken, hashToken } from '../common/crypto/tokens.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../common/errors.js';
import type { PageQueryDto } from '../common/dto/page-query.dto.js';
import { ForbiddenError } from '../auth/access.decorators.js';
import { ApiKey } from './api-key.entity.js';
import { ApiKeyAuthenticator } from './api-key-authenticator.js';
import { API_KEY_PREFIX } from './api-key-authenticator.js';
import type {
  ApiKeyDto,
  ApiKeyPageDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
} from './dto/api-key.dto.js';
import { OrganisationsService } from './organisations.service.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { SCOPES, SERVICE_WIDE_SCOPES, type Scope } from '../auth/scopes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Characters of a key kept for display: the prefix and 6 of its 43 random ones (36 bits). */
const DISPLAY_LENGTH = API_KEY_PREFIX.length + 6;

/**
 * At most this many keys per organisation (and as many unbound): keys are made by people and
 * their scripts, and a script minting one per run must hit a wall rather than grow the table.
 */
export const MAX_KEYS_PER_ORGANISATION = 1000;

/**
 * API keys (DESIGN 12): made from the CSPRNG, shown once, kept as a SHA-256 hash. A principal
 * manages the keys within its reach: its organisation's (every key for the provider and unbound
 * keys), with at most its own scopes.
 */
@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger('ApiKeys');

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly organisations: OrganisationsService,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  async create(principal: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    this.assertWithinScopes(principal, dto.scopes, 'give a key');
    const organisationId = this.organisationFor(principal, dto.organisation_id);
    if (organisationId !== null) {
      const serviceWide = dto.scopes.filter((scope) => SERVICE_WIDE_SCOPES.includes(scope));
      if (serviceWide.length > 0) {
        throw new InvalidRequestError([
          {
            field: 'scopes',
            message: `${serviceWide.join(', ')} is service-wide (/metrics counts every operation): a key bound to an organisation cannot have it`,
          },
        ]);
      }
      if (!(await this.organisations.exists(organisationId))) {
        throw new InvalidRequestError([
          { field: 'organisation_id', message: `no organisation ${organisationId}` },
        ]);
      }
    }
    const count = await this.keys.countBy({ organisationId: organisationId ?? IsNull() });
    if (count >= MAX_KEYS_PER_ORGANISATION) {
      throw new ConflictError(
        `${MAX_KEYS_PER_ORGANISATION} keys exist for this organisation already: delete unused ones first`,
      );
    }
    const key = API_KEY_PREFIX + generateToken();
    const saved = await this.keys.save(
      this.keys.create({
        name: dto.name,
        keyHash: hashToken(key),
        prefix: key.slice(0, DISPLAY_LENGTH),
        // In the order of SCOPES, whatever the order asked.
        scopes: SCOPES.filter((scope) => dto.scopes.includes(scope)),
        organisationId,
        expiresAt:
          dto.expires_in_s === undefined ? null : new Date(Date.now() + dto.expires_in_s * 1000),
        createdBy: describePrincipal(principal),
      }),
    );
    const created = await this.keys.findOneByOrFail({ id: saved.id });
    this.logger.log(
      `API key ${created.id} (${created.name}) created by ${describePrincipal(principal)}: scopes ${created.scopes.join(', ')}${organisationId ? `, organisation ${organisationId}` : ''}`,
    );
    return { ...toApiKeyDto(created), key };
  }

  /** The keys of the caller's organisation (every key for the provider and unbound keys). */
  async list(principal: Principal, { offset, limit }: PageQueryDto): Promise<ApiKeyPageDto> {
    const [rows, total] = await this.keys.findAndCount({
      where: principal.organisationId ? { organisationId: principal.organisationId } : {},
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    return { items: rows.map(toApiKeyDto), total, offset, limit };
  }

  /**
   * Deletes a key: it stops opening anything on every replica at once (a trigger tells their
   * caches; this replica's forgets it before answering, not when the notification comes back). A
   * key of another organisation is 404; one with scopes the caller lacks, 403.
   */
  async revoke(principal: Principal, id: string): Promise<void> {
    const key =
      UUID.test(id) &&
      (await this.keys.findOneBy({
        id,
        ...(principal.organisationId && { organisationId: principal.organisationId }),
      }));
    if (!key) throw new NotFoundError(`No API key ${id}`);
    this.assertWithinScopes(principal, key.scopes, 'revoke a key with');
    await this.keys.delete(key.id);
    this.authenticator.forget(key.id);
    this.logger.log(`API key ${key.id} (${key.name}) revoked by ${describePrincipal(principal)}`);
  }

  private assertWithinScopes(principal: Principal, scopes: readonly Scope[], what: string): void {
    const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      throw new ForbiddenError(
        `Scope ${missing.join(', ')} is required to ${what} it: this key has ${principal.scopes.join(', ')}`,
      );
    }
  }

  /** The organisation a new key is bound to: a bound caller's own, whatever it asked. */
  private organisationFor(principal: Principal, asked: string | undefined): string | null {
    if (principal.organisationId === undefined) return asked ?? null;
    if (asked !== undefined && asked.toLowerCase() !== principal.organisationId) {
      throw new ForbiddenError(
        `This key is bound to organisation ${principal.organisationId}: it creates keys for that organisation only`,
      );
    }
    return principal.organisationId;
  }
}

function toApiKeyDto(key: ApiKey): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    organisation_id: key.organisationId,
    expires_at: key.expiresAt,
    last_used_at: key.lastUsedAt,
    created_at: key.createdAt,
    created_by: key.createdBy,
  };
}

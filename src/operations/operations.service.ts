import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { ForbiddenError } from '../auth/access.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { OPERATION_LOCK_KEY } from '../database/operation-lock.js';
import type { CredentialsDto } from '../ocpi/dto/credentials.dto.js';
import type { EndpointDto } from '../ocpi/dto/endpoint.dto.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import { checkAdvertisedEndpoints } from './advertised-endpoints.js';
import { Connection } from './connection.entity.js';
import { toConnectionDto } from './dto/connection.dto.js';
import type { CreateOperationDto } from './dto/create-operation.dto.js';
import type { OperationListQueryDto } from './dto/operation-list-query.dto.js';
import type { OperationDto, OperationPageDto } from './dto/operation.dto.js';
import type { UpdateOperationDto } from './dto/update-operation.dto.js';
import { Operation } from './operation.entity.js';
import { formatOperatorId, parseOperatorId, type OperatorId } from './operator-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

@Injectable()
export class OperationsService {
  private readonly publicUrl: string;
  private readonly gatewayConfigured: boolean;

  constructor(
    @InjectRepository(Operation) private readonly operations: Repository<Operation>,
    config: ConfigService<AppConfig, true>,
  ) {
    this.publicUrl = config.get('publicUrl', { infer: true });
    this.gatewayConfigured = config.get('gatewayUpstreamToken', { infer: true }) !== undefined;
  }

  /** A key bound to an organisation creates operations of that organisation. */
  async create(dto: CreateOperationDto, principal: Principal): Promise<OperationDto> {
    const operator = parseOperatorId(dto.operator_id);
    if (!operator) throw new Error('operator_id passed validation but does not parse');
    const endpoints = dto.endpoints ?? [];
    this.assertAdvertisable(operator, endpoints);
    assertMaySetOrganisation(principal, dto.organisation_id);
    try {
      const saved = await this.operations.save(
        this.operations.create({
          ...operator,
          businessDetails: dto.business_details,
          endpoints,
          organisationId: dto.organisation_id ?? principal.organisationId ?? null,
          connection: new Connection(),
        }),
      );
      return this.toDto(await this.findOne({ id: saved.id }));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`Operation ${formatOperatorId(operator)} already exists`);
      }
      throw unknownOrganisation(error, dto.organisation_id) ?? error;
    }
  }

  /**
   * One page of the operations the caller sees (its organisation's, for a bound key), by operator
   * id; with `health`, registered connections only (index on both).
   */
  async list(
    { offset, limit, connection_status: status, health }: OperationListQueryDto,
    organisationId?: string,
  ): Promise<OperationPageDto> {
    // Health is a registered connection's: with another status asked for, none can match.
    if (health && status && status !== 'REGISTERED') return { items: [], total: 0, offset, limit };
    const connection = {
      ...(status && { status }),
      ...(health && { status: 'REGISTERED' as const, healthStatus: health }),
    };
    const [rows, total] = await this.operations.findAndCount({
      where: {
        ...(organisationId !== undefined && { organisationId }),
        ...((status || health) && { connection }),
      },
      relations: { connection: true },
      order: { countryCode: 'ASC', partyId: 'ASC' },
      skip: offset,
      take: limit,
    });
    return { items: rows.map((row) => this.toDto(row)), total, offset, limit };
  }

  async update(
    operation: Operation,
    dto: UpdateOperationDto,
    principal: Principal,
  ): Promise<OperationDto> {
    if (dto.endpoints) this.assertAdvertisable(operation, dto.endpoints);
    assertMaySetOrganisation(principal, dto.organisation_id);
    const updated = await this.operations.manager.transaction(async (manager) => {
      const result = await manager
        .update(Operation, operation.id, {
          ...(dto.business_details && { businessDetails: dto.business_details }),
          ...(dto.endpoints && { endpoints: dto.endpoints }),
          ...(dto.organisation_id !== undefined && { organisationId: dto.organisation_id }),
        })
        .catch((error: unknown) => {
          throw unknownOrganisation(error, dto.organisation_id) ?? error;
        });
      // Deleted since the path was resolved: the update found no row.
      if (result.affected === 0) return null;
      return manager.findOne(Operation, {
        where: { id: operation.id },
        relations: { connection: true },
      });
    });
    if (!updated) throw new NotFoundError(`No operation ${formatOperatorId(operation)}`);
    return this.toDto(updated);
  }

  /**
   * Deletes an operation unless it is registered or a handshake of it is under way (on any
   * replica: the handshake holds the operation's advisory lock).
   */
  async remove(operation: Operation): Promise<void> {
    const name = formatOperatorId(operation);
    await this.operations.manager.transaction(async (manager) => {
      const [{ free }] = await manager.query<[{ free: boolean }]>(
        `SELECT pg_try_advisory_xact_lock(${OPERATION_LOCK_KEY}) AS free`,
        [operation.id],
      );
      if (!free)
        throw new ConflictError(`A handshake of ${name} is under way: try again when it is over`);
      const result = await manager
        .createQueryBuilder()
        .delete()
        .from(Operation)
        .where('id = :id', { id: operation.id })
        .andWhere(
          `NOT EXISTS (SELECT 1 FROM connections c WHERE c.operation_id = :id AND c.status = 'REGISTERED')`,
        )
        .execute();
      if (result.affected === 0) {
        throw new ConflictError(
          `Operation ${name} is registered with its peer: unregister it first`,
        );
      }
    });
  }

  /**
   * Finds an operation by the reference an admin path carries: its id, or its operator id in any
   * spelling (`FR*AB1`, `FRAB1`, `fr*ab1`); with `organisationId`, only among that organisation's
   * (another's is not found, as if it did not exist).
   */
  async resolve(ref: string, organisationId?: string): Promise<Operation> {
    const named = parseOperationRef(ref);
    const where = named && {
      ...named,
      ...(organisationId !== undefined && { organisationId }),
    };
    const operation =
      where && (await this.operations.findOne({ where, relations: { connection: true } }));
    if (!operation) throw new NotFoundError(`No operation ${ref}`);
    return operation;
  }

  /** Where an operation's OCPI routes live: `{PUBLIC_URL}/ocpi/FR/AB1`. */
  ocpiBaseUrl({ countryCode, partyId }: OperatorId): string {
    return `${this.publicUrl}/ocpi/${countryCode}/${partyId}`;
  }

  /** Where the gateway serves one of an operation's modules: `{PUBLIC_URL}/ocpi/FR/AB1/2.1.1/{id}`. */
  moduleUrl(operator: OperatorId, identifier: string): string {
    return `${this.ocpiBaseUrl(operator)}/${OCPI_VERSION}/${identifier}`;
  }

  /**
   * The modules our version details list besides credentials: those served elsewhere at their
   * own URL, those behind the gateway at {@link moduleUrl} (their upstream is never shown).
   */
  advertisedEndpoints(operation: Operation): EndpointDto[] {
    return operation.endpoints.map(({ identifier, url }) => ({
      identifier,
      url: url ?? this.moduleUrl(operation, identifier),
    }));
  }

  /** Our OCPI versions URL for an operation: what the CPO hands to the peer. */
  versionsUrl(operator: OperatorId): string {
    return `${this.ocpiBaseUrl(operator)}/versions`;
  }

  /** Our OCPI credentials for an operation, carrying the token the peer is to present to us. */
  ourCredentials(operation: Operation, token: string): CredentialsDto {
    return {
      token,
      url: this.versionsUrl(operation),
      business_details: operation.businessDetails,
      party_id: operation.partyId,
      country_code: operation.countryCode,
    };
  }

  private findOne(where: { id: string }): Promise<Operation> {
    return this.operations.findOneOrFail({ where, relations: { connection: true } });
  }

  private assertAdvertisable(
    operator: OperatorId,
    endpoints: CreateOperationDto['endpoints'] & {},
  ) {
    const errors = checkAdvertisedEndpoints(operator, endpoints, {
      gatewayConfigured: this.gatewayConfigured,
    });
    if (errors.length > 0) throw new InvalidRequestError(errors);
  }

  toDto(operation: Operation): OperationDto {
    return {
      id: operation.id,
      operator_id: formatOperatorId(operation),
      country_code: operation.countryCode,
      party_id: operation.partyId,
      business_details: operation.businessDetails,
      endpoints: operation.endpoints,
      organisation_id: operation.organisationId,
      versions_url: this.versionsUrl(operation),
      connection: toConnectionDto(operation.connection),
      created_at: operation.createdAt,
      updated_at: operation.updatedAt,
    };
  }
}

/**
 * What an operation reference names (`{operation}` of admin and relay paths): an operator id in
 * any spelling (`FR*AB1`, `FRAB1`, `fr*ab1`), or the operation's id; undefined when neither.
 */
export function parseOperationRef(ref: string): OperatorId | { id: string } | undefined {
  return parseOperatorId(ref) ?? (UUID.test(ref) ? { id: ref.toLowerCase() } : undefined);
}

/**
 * `organisation_id` is the provider's to set (DESIGN 12): any other key may only ask for what it
 * would get anyway (its own organisation, or none for an unbound key).
 */
function assertMaySetOrganisation(principal: Principal, asked: string | null | undefined): void {
  if (asked === undefined || principal.kind === 'provider') return;
  if ((asked?.toLowerCase() ?? null) === (principal.organisationId ?? null)) return;
  throw new ForbiddenError(
    "organisation_id is set by the provider only (ADMIN_TOKEN): leave it out, and the operation is your key's organisation's",
  );
}

/** The 400 of an `organisation_id` that names no organisation (the foreign key refused it). */
function unknownOrganisation(error: unknown, asked: string | null | undefined): Error | undefined {
  const driverError =
    error instanceof QueryFailedError
      ? (error.driverError as { code?: string; constraint?: string } | undefined)
      : undefined;
  if (
    driverError?.code !== FOREIGN_KEY_VIOLATION ||
    driverError.constraint !== 'operations_organisation_id_fkey'
  ) {
    return undefined;
  }
  return new InvalidRequestError([
    { field: 'organisation_id', message: `no organisation ${asked}: create it first` },
  ]);
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION
  );
}

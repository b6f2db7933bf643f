import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { isStillReferenced } from '../common/database-errors.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import type { PageQueryDto } from '../common/dto/page-query.dto.js';
import type {
  CreateOrganisationDto,
  OrganisationDto,
  OrganisationPageDto,
  UpdateOrganisationDto,
} from './dto/organisation.dto.js';
import { Organisation } from '../operations/organisation.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The CPOs a provider hosts (DESIGN 12); the provider's routes only. */
@Injectable()
export class OrganisationsService {
  constructor(
    @InjectRepository(Organisation) private readonly organisations: Repository<Organisation>,
  ) {}

  async create(dto: CreateOrganisationDto): Promise<OrganisationDto> {
    const saved = await this.organisations.save(this.organisations.create({ name: dto.name }));
    return toOrganisationDto(saved);
  }

  async list({ offset, limit }: PageQueryDto): Promise<OrganisationPageDto> {
    const [rows, total] = await this.organisations.findAndCount({
      order: { name: 'ASC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    return { items: rows.map(toOrganisationDto), total, offset, limit };
  }

  async get(id: string): Promise<OrganisationDto> {
    return toOrganisationDto(await this.find(id));
  }

  /** Whether it exists now (an operation or key about to name it). */
  async exists(id: string): Promise<boolean> {
    return UUID.test(id) && (await this.organisations.existsBy({ id }));
  }

  async update(id: string, dto: UpdateOrganisationDto): Promise<OrganisationDto> {
    const organisation = await this.find(id);
    const result = await this.organisations.update(organisation.id, { name: dto.name });
    if (result.affected === 0) throw new NotFoundError(`No organisation ${id}`);
    return toOrganisationDto(await this.find(id));
  }

  /**
   * Deletes an organisation that owns no operation (the foreign key refuses it otherwise, also
   * against an operation created meanwhile); its API keys go with it, on every replica at once.
   */
  async remove(id: string): Promise<void> {
    const organisation = await this.find(id);
    try {
      const result = await this.organisations.delete(organisation.id);
      if (result.affected === 0) throw new NotFoundError(`No organisation ${id}`);
    } catch (error) {
      if (error instanceof QueryFailedError && isStillReferenced(error)) {
        throw new ConflictError(
          `Organisation ${id} owns operations: delete them or move them to another organisation (PATCH /admin/operations/{operation} with organisation_id) first`,
        );
      }
      throw error;
    }
  }

  private async find(id: string): Promise<Organisation> {
    const organisation = UUID.test(id) && (await this.organisations.findOneBy({ id }));
    if (!organisation) throw new NotFoundError(`No organisation ${id}`);
    return organisation;
  }
}

function toOrganisationDto(organisation: Organisation): OrganisationDto {
  return {
    id: organisation.id,
    name: organisation.name,
    created_at: organisation.createdAt,
    updated_at: organisation.updatedAt,
  };
}

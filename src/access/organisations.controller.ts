import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { PageQueryDto } from '../common/dto/page-query.dto.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { RequireProvider } from '../auth/access.decorators.js';
import {
  CreateOrganisationDto,
  OrganisationDto,
  OrganisationPageDto,
  UpdateOrganisationDto,
} from './dto/organisation.dto.js';
import { OrganisationsService } from './organisations.service.js';

const NO_SUCH_ORGANISATION = { description: 'No such organisation', type: ErrorBodyDto };

/** The CPOs a provider hosts: the provider's own routes (ADMIN_TOKEN). */
@Controller('admin/organisations')
@ApiTags('access')
@AdminApi()
export class OrganisationsController {
  constructor(private readonly organisations: OrganisationsService) {}

  /** Adds an organisation; then give its operations `organisation_id`, and it API keys. */
  @Post()
  @RequireProvider()
  create(@Body() dto: CreateOrganisationDto): Promise<OrganisationDto> {
    return this.organisations.create(dto);
  }

  /** Lists organisations by name, one page at a time. */
  @Get()
  @RequireProvider()
  list(@Query() page: PageQueryDto): Promise<OrganisationPageDto> {
    return this.organisations.list(page);
  }

  /** One organisation. */
  @Get(':id')
  @RequireProvider()
  @ApiNotFoundResponse(NO_SUCH_ORGANISATION)
  get(@Param('id') id: string): Promise<OrganisationDto> {
    return this.organisations.get(id);
  }

  /** Renames an organisation. */
  @Patch(':id')
  @RequireProvider()
  @ApiNotFoundResponse(NO_SUCH_ORGANISATION)
  update(@Param('id') id: string, @Body() dto: UpdateOrganisationDto): Promise<OrganisationDto> {
    return this.organisations.update(id, dto);
  }

  /** Removes an organisation that owns no operation, and its API keys with it. */
  @Delete(':id')
  @HttpCode(204)
  @RequireProvider()
  @ApiNotFoundResponse(NO_SUCH_ORGANISATION)
  @ApiConflictResponse({
    description: 'It owns operations: delete them or move them to another organisation first',
    type: ErrorBodyDto,
  })
  remove(@Param('id') id: string): Promise<void> {
    return this.organisations.remove(id);
  }
}

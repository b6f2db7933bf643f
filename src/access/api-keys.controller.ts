import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { PageQueryDto } from '../common/dto/page-query.dto.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { RequireApiKeyOrProvider } from '../auth/access.decorators.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';

/**
 * API keys with scopes (DESIGN 12). The admin token manages every key; an API key manages the
 * keys of its organisation (all, when unbound) with at most its own scopes.
 */
@Controller('admin/api-keys')
@ApiTags('access')
@AdminApi()
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  /** Creates a key; `key` is shown this once. */
  @Post()
  @RequireApiKeyOrProvider()
  @ApiConflictResponse({
    description: 'The organisation has 1000 keys already: delete unused ones first',
    type: ErrorBodyDto,
  })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.create(principal, dto);
  }

  /** The keys of the caller's organisation (every key for the provider), newest first; never a key. */
  @Get()
  @RequireApiKeyOrProvider()
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() page: PageQueryDto,
  ): Promise<ApiKeyPageDto> {
    return this.keys.list(principal, page);
  }

  /** Revokes a key: it opens nothing any more, on every replica at once. */
  @Delete(':id')
  @HttpCode(204)
  @RequireApiKeyOrProvider()
  @ApiNotFoundResponse({
    description: "No such key (another organisation's key is none either)",
    type: ErrorBodyDto,
  })
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.keys.revoke(principal, id);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../auth/access.decorators.js';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { PageQueryDto } from '../common/dto/page-query.dto.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { UuidParam } from '../common/uuid-param.js';
import { CreatedWebhookDto, CreateWebhookDto, WebhookPageDto } from './dto/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Receivers of connection events (DESIGN 9.4): each gets the events it wants, of every operation,
 * or of its organisation's when a key bound to one made it (that key's organisation sees only its
 * own).
 */
@Controller('admin/webhooks')
@ApiTags('webhooks')
@AdminApi()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Adds a receiver; its signing secret is shown in this answer only. */
  @Post()
  @RequireScope('webhooks')
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateWebhookDto,
  ): Promise<CreatedWebhookDto> {
    return this.webhooks.create(dto, principal);
  }

  /** The receivers, oldest first, without their secrets. */
  @Get()
  @RequireScope('webhooks')
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() page: PageQueryDto,
  ): Promise<WebhookPageDto> {
    return this.webhooks.list(page, principal);
  }

  /** Removes a receiver, and the events not yet delivered to it. */
  @Delete(':id')
  @RequireScope('webhooks')
  @HttpCode(204)
  @ApiNotFoundResponse({ description: 'No such webhook', type: ErrorBodyDto })
  remove(@CurrentPrincipal() principal: Principal, @UuidParam() id: string): Promise<void> {
    return this.webhooks.remove(id, principal);
  }
}

import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AdminApi } from '../auth/admin-auth.guard.js';
import { PageQueryDto } from '../common/dto/page-query.dto.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { CreatedWebhookDto, CreateWebhookDto, WebhookPageDto } from './dto/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

/** Receivers of connection events (DESIGN 9.4): each gets the events it wants, of every operation. */
@Controller('admin/webhooks')
@ApiTags('webhooks')
@AdminApi()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Adds a receiver; its signing secret is shown in this answer only. */
  @Post()
  create(@Body() dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooks.create(dto);
  }

  /** The receivers, oldest first, without their secrets. */
  @Get()
  list(@Query() page: PageQueryDto): Promise<WebhookPageDto> {
    return this.webhooks.list(page);
  }

  /** Removes a receiver, and the events not yet delivered to it. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNotFoundResponse({ description: 'No such webhook', type: ErrorBodyDto })
  remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    return this.webhooks.remove(id);
  }
}

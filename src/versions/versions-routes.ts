import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Front, sendJson, type FrontCall } from '../front/front.js';
import { ocpiSuccess } from '../ocpi/envelope.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import type { Operation } from '../operations/operation.entity.js';
import { OcpiTokenCheck } from '../tokens/ocpi-token-check.js';
import { VersionsService } from './versions.service.js';

const GET: ReadonlySet<string> = new Set(['GET']);
const OPERATION = '^/ocpi/(?<countryCode>[^/?]+)/(?<partyId>[^/?]+)';
/** The end of a path, with or without a trailing slash, before any query. */
const END = '/?(?:\\?|$)';

/**
 * GET versions and version details, served by the front ahead of Express (what a hub calls
 * whenever it checks a connection): the same token check as the controller's guard, the same
 * answers (VersionsService); the controller declares the routes and serves HEAD.
 */
@Injectable()
export class VersionsRoutes implements OnModuleInit {
  constructor(
    private readonly front: Front,
    private readonly tokens: OcpiTokenCheck,
    private readonly versions: VersionsService,
  ) {}

  onModuleInit(): void {
    this.front.add({
      methods: GET,
      path: new RegExp(`${OPERATION}/versions${END}`, 'i'),
      template: '/ocpi/:countryCode/:partyId/versions',
      serve: (call) => this.answer(call, (operation) => this.versions.versions(operation)),
    });
    this.front.add({
      methods: GET,
      path: new RegExp(`${OPERATION}/${OCPI_VERSION.replace(/\./g, '\\.')}${END}`, 'i'),
      template: `/ocpi/:countryCode/:partyId/${OCPI_VERSION}`,
      serve: (call) => this.answer(call, (operation) => this.versions.details(operation)),
    });
  }

  private async answer(
    { request, response, params, clientAddress }: FrontCall,
    data: (operation: Operation) => unknown,
  ): Promise<void> {
    const { operation } = await this.tokens.check('versions', {
      countryCode: params.countryCode,
      partyId: params.partyId,
      authorization: request.headers.authorization,
      clientAddress,
    });
    sendJson(response, 200, ocpiSuccess(data(operation)));
  }
}

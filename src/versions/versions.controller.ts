import { Controller, Get } from '@nestjs/common';
import { ApiOcpiOk } from '../ocpi/api-ocpi-response.js';
import { ocpiSuccess, type OcpiEnvelope } from '../ocpi/envelope.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import { OcpiAccess, OcpiAuth, OcpiController } from '../tokens/ocpi-token.guard.js';
import type { Authentication } from '../tokens/tokens.service.js';
import { VersionDetailsDto, VersionDto } from './dto/version.dto.js';
import { VersionsService } from './versions.service.js';

/**
 * OCPI versions module of every operation; answers with and without a trailing slash. GET is
 * served by the front ahead of Express (VersionsRoutes): these routes document it and serve HEAD.
 */
@Controller('ocpi/:countryCode/:partyId')
@OcpiController('ocpi versions')
export class VersionsController {
  constructor(private readonly service: VersionsService) {}

  /** The versions this operation speaks: 2.1.1. */
  @Get('versions')
  @OcpiAccess('versions')
  @ApiOcpiOk(VersionDto, { isArray: true })
  versions(@OcpiAuth() { operation }: Authentication): OcpiEnvelope<VersionDto[]> {
    return ocpiSuccess(this.service.versions(operation));
  }

  /**
   * Version 2.1.1 details: our credentials endpoint and the modules the operation advertises,
   * those behind the gateway under the operation's prefix.
   */
  @Get(OCPI_VERSION)
  @OcpiAccess('versions')
  @ApiOcpiOk(VersionDetailsDto)
  details(@OcpiAuth() { operation }: Authentication): OcpiEnvelope<VersionDetailsDto> {
    return ocpiSuccess(this.service.details(operation));
  }
}

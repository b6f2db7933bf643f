import { Controller, Get } from '@nestjs/common';
import { ApiOcpiOk } from '../ocpi/api-ocpi-response.js';
import { ocpiSuccess, type OcpiEnvelope } from '../ocpi/envelope.js';
import { OCPI_VERSION } from '../ocpi/version.js';
import { OperationsService } from '../operations/operations.service.js';
import { OcpiAccess, OcpiAuth, OcpiController } from '../tokens/ocpi-token.guard.js';
import type { Authentication } from '../tokens/tokens.service.js';
import { VersionDetailsDto, VersionDto } from './dto/version.dto.js';

/** OCPI versions module of every operation; answers with and without a trailing slash. */
@Controller('ocpi/:countryCode/:partyId')
@OcpiController('ocpi versions')
export class VersionsController {
  constructor(private readonly operations: OperationsService) {}

  /** The versions this operation speaks: 2.1.1. */
  @Get('versions')
  @OcpiAccess('versions')
  @ApiOcpiOk(VersionDto, { isArray: true })
  versions(@OcpiAuth() { operation }: Authentication): OcpiEnvelope<VersionDto[]> {
    return ocpiSuccess([
      { version: OCPI_VERSION, url: `${this.operations.ocpiBaseUrl(operation)}/${OCPI_VERSION}` },
    ]);
  }

  /**
   * Version 2.1.1 details: our credentials endpoint and the modules the operation advertises,
   * those behind the gateway under the operation's prefix.
   */
  @Get(OCPI_VERSION)
  @OcpiAccess('versions')
  @ApiOcpiOk(VersionDetailsDto)
  details(@OcpiAuth() { operation }: Authentication): OcpiEnvelope<VersionDetailsDto> {
    const base = `${this.operations.ocpiBaseUrl(operation)}/${OCPI_VERSION}`;
    return ocpiSuccess({
      version: OCPI_VERSION,
      endpoints: [
        { identifier: 'credentials', url: `${base}/credentials` },
        ...this.operations.advertisedEndpoints(operation),
      ],
    });
  }
}

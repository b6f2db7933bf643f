import { Injectable } from '@nestjs/common';
import { OCPI_VERSION } from '../ocpi/version.js';
import type { Operation } from '../operations/operation.entity.js';
import { OperationsService } from '../operations/operations.service.js';
import type { VersionDetailsDto, VersionDto } from './dto/version.dto.js';

/** What an operation's OCPI versions module says: the versions it speaks, and their details. */
@Injectable()
export class VersionsService {
  constructor(private readonly operations: OperationsService) {}

  /** The versions this operation speaks: 2.1.1. */
  versions(operation: Operation): VersionDto[] {
    return [
      { version: OCPI_VERSION, url: `${this.operations.ocpiBaseUrl(operation)}/${OCPI_VERSION}` },
    ];
  }

  /**
   * Version 2.1.1 details: our credentials endpoint and the modules the operation advertises,
   * those behind the gateway under the operation's prefix.
   */
  details(operation: Operation): VersionDetailsDto {
    const base = `${this.operations.ocpiBaseUrl(operation)}/${OCPI_VERSION}`;
    return {
      version: OCPI_VERSION,
      endpoints: [
        { identifier: 'credentials', url: `${base}/credentials` },
        ...this.operations.advertisedEndpoints(operation),
      ],
    };
  }
}

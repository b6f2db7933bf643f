import { Body, Controller, Delete, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOcpiErrors, ApiOcpiOk } from '../ocpi/api-ocpi-response.js';
import { CredentialsDto } from '../ocpi/dto/credentials.dto.js';
import { ocpiSuccess, type OcpiEnvelope } from '../ocpi/envelope.js';
import { OcpiAccess, OcpiAuth, OcpiController } from '../tokens/ocpi-token.guard.js';
import type { Authentication } from '../tokens/tokens.service.js';
import { CredentialsService } from './credentials.service.js';

type Authenticated = Required<Authentication>;

/** POST, PUT and DELETE run a handshake: one at a time per operation. */
const ApiHandshake = () =>
  ApiOcpiErrors({ 409: 'Another handshake of this operation is in progress; try again' });

/**
 * OCPI 2.1.1 credentials endpoint of every operation. Failures of the call-back to the peer
 * answer HTTP 200 with status 3001, 3002 or 3003 in the envelope.
 */
@Controller('ocpi/:countryCode/:partyId/2.1.1/credentials')
@OcpiController('ocpi credentials')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  /** Our credentials, with the token the caller presented. */
  @Get()
  @OcpiAccess('credentials.get')
  @ApiOcpiOk(CredentialsDto)
  get(@OcpiAuth() { operation, token }: Authenticated): OcpiEnvelope<CredentialsDto> {
    return ocpiSuccess(this.credentials.ours(operation, token.value));
  }

  /** Register: we call the peer's versions back, then answer with our credentials and a new token. */
  @Post()
  @HttpCode(200)
  @OcpiAccess('credentials.post')
  @ApiOcpiOk(CredentialsDto)
  @ApiHandshake()
  register(
    @OcpiAuth() { operation, token }: Authenticated,
    @Body() peer: CredentialsDto,
  ): Promise<OcpiEnvelope<CredentialsDto>> {
    return this.credentials.register(operation, token, peer).then(ocpiSuccess);
  }

  /** Update: the peer's new credentials, fetched again; answers with a new token for it. */
  @Put()
  @OcpiAccess('credentials.put')
  @ApiOcpiOk(CredentialsDto)
  @ApiHandshake()
  update(
    @OcpiAuth() { operation, token }: Authenticated,
    @Body() peer: CredentialsDto,
  ): Promise<OcpiEnvelope<CredentialsDto>> {
    return this.credentials.update(operation, token, peer).then(ocpiSuccess);
  }

  /** Unregister: the connection ends. */
  @Delete()
  @OcpiAccess('credentials.delete')
  @ApiOcpiOk()
  @ApiHandshake()
  unregister(
    @OcpiAuth() { operation, token }: Authenticated,
  ): Promise<OcpiEnvelope<Record<string, never>>> {
    return this.credentials.unregister(operation, token).then(ocpiSuccess);
  }
}

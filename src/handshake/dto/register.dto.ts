import { IsBoolean, IsOptional } from 'class-validator';
import { IsOcpiToken, IsOcpiUrl } from '../../ocpi/ocpi-validators.js';

/** ToIOP register. Both fields, or neither to re-register to the last peer with its last token. */
export class RegisterDto {
  /** The peer's versions URL. @example https://iop.example/ocpi/emsp/versions */
  @IsOptional()
  @IsOcpiUrl()
  versions_url?: string;

  /** The token the peer gave us to register with (its token A). */
  @IsOptional()
  @IsOcpiToken()
  token?: string;
}

export class UnregisterDto {
  /** Also end the connection locally when the peer cannot be told. */
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

import { IsOptional } from 'class-validator';
import { IsIntInRange } from '../../common/validators.js';

export class CreateRegistrationTokenDto {
  /** Lifetime of the token in seconds (60 s to 366 days); REGISTRATION_TOKEN_TTL_S (30 days) if left out. */
  @IsOptional()
  @IsIntInRange(60, 366 * 24 * 3600)
  expires_in_s?: number;
}

/** A token A, shown this once: only its hash is kept. */
export class RegistrationTokenDto {
  /** Hand it to the peer with the operation's versions_url. */
  token!: string;
  /** Until a registration succeeds, or this moment, whichever comes first. */
  expires_at!: Date;
  /** @example https://ocpi.cpo.example/ocpi/FR/AB1/versions */
  versions_url!: string;
}

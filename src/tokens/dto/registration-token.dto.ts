import { IsOptional } from 'class-validator';
import { IsIntInRange } from '../../common/validators.js';

export class CreateRegistrationTokenDto {
  /** Lifetime of the token in seconds; without it, the token lasts until a registration succeeds. */
  @IsOptional()
  @IsIntInRange(60, 366 * 24 * 3600)
  expires_in_s?: number;
}

/** A token A, shown this once: only its hash is kept. */
export class RegistrationTokenDto {
  /** Hand it to the peer with the operation's versions_url. */
  token!: string;
  /** Null: valid until a registration succeeds. */
  expires_at!: Date | null;
  /** @example https://ocpi.cpo.example/ocpi/FR/AB1/versions */
  versions_url!: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsOptional, IsUUID } from 'class-validator';
import { IsBoundedString, IsIntInRange } from '../../common/validators.js';
import { SCOPES, type Scope } from '../../auth/scopes.js';

/** The longest lifetime a key may be given: three years. */
export const MAX_KEY_LIFETIME_S = 3 * 366 * 24 * 3600;

export class CreateApiKeyDto {
  /**
   * What the key is for, shown in lists and logs.
   * @example locations pusher
   */
  @IsBoundedString(200)
  name!: string;

  /** What the key opens; a key creating a key gives it at most its own scopes. */
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...SCOPES] }, minItems: 1 })
  @IsArray({ message: `must be a list of scopes: ${SCOPES.join(', ')}` })
  @ArrayNotEmpty({ message: 'must name at least one scope' })
  @ArrayUnique({ message: 'must list each scope once' })
  @IsIn(SCOPES, { each: true, message: `each must be one of ${SCOPES.join(', ')}` })
  scopes!: Scope[];

  /**
   * The organisation whose operations the key sees (only them); left out: every operation, or,
   * for a key created by a bound key, that key's organisation.
   */
  @IsOptional()
  @IsUUID('all', { message: 'must be the id of an organisation' })
  organisation_id?: string;

  /** Lifetime in seconds (60 s to 3 years); left out: the key lives until it is deleted. */
  @IsOptional()
  @IsIntInRange(60, MAX_KEY_LIFETIME_S)
  expires_in_s?: number;
}

/** An API key as lists show it: never the key itself. */
export class ApiKeyDto {
  /** @example 9d3b1c8e-5a7f-4e21-8c6b-1f2e3d4c5b6a */
  id!: string;
  /** @example locations pusher */
  name!: string;
  /**
   * The key's first characters, to tell keys apart.
   * @example ocpik_Xb2Qe9
   */
  prefix!: string;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...SCOPES] } })
  scopes!: Scope[];
  /** The organisation whose operations it sees; null: every operation. */
  organisation_id!: string | null;
  /** Null: until deleted. */
  expires_at!: Date | null;
  /** Last use, within a minute (written at most once a minute). */
  last_used_at!: Date | null;
  created_at!: Date;
  /**
   * Who created it: `ADMIN_TOKEN`, or `key {id} ({name})`.
   * @example ADMIN_TOKEN
   */
  created_by!: string;
}

/** A new key: `key` is shown this once, only its hash is kept. */
export class CreatedApiKeyDto extends ApiKeyDto {
  /**
   * Give it to the system that is to use it, as `Authorization: Bearer {key}`.
   * @example ocpik_Xb2Qe9wM4rT7yU1iO3pA5sD8fG0hJ2kL4zX6cV9bN1m
   */
  key!: string;
}

/** One page of API keys, newest first. */
export class ApiKeyPageDto {
  items!: ApiKeyDto[];
  /** How many keys the caller may see in all. */
  total!: number;
  offset!: number;
  limit!: number;
}

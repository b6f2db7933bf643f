import { IsBoundedString } from '../../common/validators.js';

export class CreateOrganisationDto {
  /**
   * How the provider names the CPO.
   * @example Charge & Go
   */
  @IsBoundedString(200)
  name!: string;
}

/** What can change on an organisation: its name. */
export class UpdateOrganisationDto extends CreateOrganisationDto {}

/** A CPO hosted by the provider: its API keys see its operations only. */
export class OrganisationDto {
  /** @example 0b7e2a64-6a5f-4f57-9b43-8b9e3a0c1d22 */
  id!: string;
  /** @example Charge & Go */
  name!: string;
  created_at!: Date;
  updated_at!: Date;
}

/** One page of organisations, by name. */
export class OrganisationPageDto {
  items!: OrganisationDto[];
  /** How many organisations there are in all. */
  total!: number;
  offset!: number;
  limit!: number;
}

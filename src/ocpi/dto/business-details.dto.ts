import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsOptional, ValidateNested } from 'class-validator';
import { IsBoundedString, IsIntInRange } from '../../common/validators.js';
import { IsOcpiUrl } from '../ocpi-validators.js';

export const IMAGE_CATEGORIES = [
  'CHARGER',
  'ENTRANCE',
  'LOCATION',
  'NETWORK',
  'OPERATOR',
  'OTHER',
  'OWNER',
] as const;
export type ImageCategory = (typeof IMAGE_CATEGORIES)[number];

/** OCPI 2.1.1 Image. */
export class ImageDto {
  /** URL of the full-scale image. */
  @IsOcpiUrl()
  url!: string;

  /** URL of a thumbnail (advised 128x128). */
  @IsOptional()
  @IsOcpiUrl()
  thumbnail?: string;

  /** What the image shows. */
  @IsIn(IMAGE_CATEGORIES)
  category!: ImageCategory;

  /** Image type, e.g. `png`, `jpeg`, `gif`, `svg`. */
  @IsBoundedString(4)
  type!: string;

  /** Width in pixels. */
  @IsOptional()
  @IsIntInRange(1, 99_999)
  width?: number;

  /** Height in pixels. */
  @IsOptional()
  @IsIntInRange(1, 99_999)
  height?: number;
}

/** OCPI 2.1.1 BusinessDetails. */
export class BusinessDetailsDto {
  /** Name of the operator. */
  @IsBoundedString(100)
  name!: string;

  /** Link to the operator's website. */
  @IsOptional()
  @IsOcpiUrl()
  website?: string;

  /** Logo of the operator. */
  @IsOptional()
  @ValidateNested()
  @Type(() => ImageDto)
  logo?: ImageDto;
}

/**
 * OCPI 2.1.1 BusinessDetails as a peer sends them: `name` is required; an empty `website` or
 * `logo` (`""` or `null`) is absent, and the logo is checked apart (acceptPeerBusinessDetails): a
 * peer whose logo is not a valid Image is not refused for it.
 */
export class PeerBusinessDetailsDto {
  /** Name of the operator. */
  @IsBoundedString(100)
  name!: string;

  /** Link to the operator's website. */
  @Transform(({ value }: { value: unknown }) =>
    value === '' || value === null ? undefined : value,
  )
  @IsOptional()
  @IsOcpiUrl()
  website?: string;

  /** Logo of the operator (OCPI Image). */
  @ApiPropertyOptional({ type: () => ImageDto })
  @IsOptional()
  logo?: unknown;
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional } from 'class-validator';
import { IsIntInRange } from '../validators.js';

export const MAX_PAGE_SIZE = 500;

/** `?offset=&limit=` of list routes. */
export class PageQueryDto {
  /** How many items to skip. */
  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Number)
  @IsIntInRange(0)
  offset: number = 0;

  /** How many items to return, at most 500. */
  @ApiPropertyOptional()
  @IsOptional()
  @Type(() => Number)
  @IsIntInRange(1, MAX_PAGE_SIZE)
  limit: number = 50;
}

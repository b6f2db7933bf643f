import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { isISO31661Alpha2, ValidateBy } from 'class-validator';

/** An eMI3 operator id, split into the OCPI country code and party id it maps to. */
export interface OperatorId {
  /** ISO 3166-1 alpha-2, upper case: `FR`. */
  countryCode: string;
  /** Spot operator id, 3 upper-case letters or digits: `AB1`. */
  partyId: string;
}

export const OPERATOR_ID_FORM =
  "2 letters of ISO 3166 country code, an optional '*', then 3 letters or digits, e.g. FR*AB1";

const OPERATOR_ID = /^([A-Za-z]{2})\*?([A-Za-z0-9]{3})$/;

/**
 * Parses `FR*AB1`, `FRAB1` or `fr*ab1` into `{FR, AB1}`; anything else gives `undefined`.
 * The country code must be an assigned ISO 3166-1 alpha-2 code, as eMI3 requires.
 */
export function parseOperatorId(value: string): OperatorId | undefined {
  const match = OPERATOR_ID.exec(value);
  if (!match) return undefined;
  const countryCode = match[1].toUpperCase();
  if (!isISO31661Alpha2(countryCode)) return undefined;
  return { countryCode, partyId: match[2].toUpperCase() };
}

/** The canonical spelling, with the separator: `FR*AB1`. */
export function formatOperatorId({ countryCode, partyId }: OperatorId): string {
  return `${countryCode}*${partyId}`;
}

/** Validates an eMI3 operator id in a DTO and normalizes it to `FR*AB1`. */
export function IsOperatorId(): PropertyDecorator {
  return applyDecorators(
    ValidateBy({
      name: 'isOperatorId',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && parseOperatorId(value) !== undefined,
        defaultMessage: () => `must be an eMI3 operator id: ${OPERATOR_ID_FORM}`,
      },
    }),
    Transform(({ value }: { value: unknown }) => {
      const parsed = typeof value === 'string' ? parseOperatorId(value) : undefined;
      return parsed ? formatOperatorId(parsed) : value;
    }),
    ApiProperty({
      description: `eMI3 operator id: ${OPERATOR_ID_FORM}. Stored as FR*AB1.`,
      example: 'FR*AB1',
      pattern: OPERATOR_ID.source,
    }),
  );
}

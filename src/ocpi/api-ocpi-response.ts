import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';
import { OcpiStatus } from './envelope.js';
import { ApiResponsesFor } from '../common/api-errors.js';

const TIMESTAMP = { type: 'string', format: 'date-time', example: '2020-01-08T10:24:52Z' };

/**
 * Documents what an OCPI handler answers: the 2.1.1 envelope around `data` of the given DTO
 * (a list with `isArray`, an empty object without a DTO); the errors come from OcpiController,
 * OcpiAccess and ApiOcpiErrors.
 */
export function ApiOcpiOk(data?: Type, { isArray = false } = {}): MethodDecorator {
  const item = data ? { $ref: getSchemaPath(data) } : { type: 'object', example: {} };
  return applyDecorators(
    ...(data ? [ApiExtraModels(data)] : []),
    ApiOkResponse({
      description:
        'OCPI envelope. Status 1000 with the data; when the call-back to the peer fails during ' +
        'POST/PUT, HTTP 200 with status 3001, 3002 or 3003 and no data',
      schema: {
        type: 'object',
        required: ['status_code', 'timestamp'],
        properties: {
          data: isArray ? { type: 'array', items: item } : item,
          status_code: { type: 'integer', example: OcpiStatus.SUCCESS },
          status_message: { type: 'string', example: 'Success' },
          timestamp: TIMESTAMP,
        },
      },
    }),
  );
}

/**
 * The OCPI status_code of an error answer, by HTTP status (as the exception filter maps them):
 * 2001 when the body or the path is the problem, 2000 for the other refusals, 3000 on our side.
 */
export function ocpiStatusCodeOf(httpStatus: number): number {
  if (httpStatus === 400 || httpStatus === 413 || httpStatus === 415) {
    return OcpiStatus.INVALID_PARAMETERS;
  }
  return httpStatus < 500 ? OcpiStatus.CLIENT_ERROR : OcpiStatus.SERVER_ERROR;
}

/** The envelope of an OCPI error: no data. */
function errorEnvelope(httpStatus: number): Record<string, unknown> {
  const statusCode = ocpiStatusCodeOf(httpStatus);
  return {
    type: 'object',
    required: ['status_code', 'status_message', 'timestamp'],
    properties: {
      status_code: { type: 'integer', enum: [statusCode], example: statusCode },
      status_message: { type: 'string', description: 'What went wrong, for a human' },
      timestamp: TIMESTAMP,
    },
  };
}

/**
 * Documents each HTTP status with the OCPI error envelope (status_code 2001, 2000 or 3000, a
 * status_message, no data). On a controller, for each of its routes; a route's own description of
 * a status replaces the controller's.
 */
export function ApiOcpiErrors(
  descriptions: Readonly<Record<number, string>>,
): ClassDecorator & MethodDecorator {
  return ApiResponsesFor(descriptions, (status, description) => ({
    description: `${description} (OCPI status ${ocpiStatusCodeOf(status)})`,
    schema: errorEnvelope(status),
  }));
}

/** What every OCPI route may answer besides its success (OcpiController documents them). */
export const OCPI_ROUTE_ERRORS = {
  400: 'Invalid or missing parameters: a bad field of the body (named), a body that is not valid JSON, or a malformed path',
  401: 'Not a valid token of this operation for this route: Authorization: Token {token}',
  404: 'No such operation (country code and party id)',
  413: 'The body is larger than 100 kB',
  415: 'A body that is not sent as JSON (Content-Type: application/json)',
  429: 'Too many failed authentications from this address; Retry-After says when to try again',
  500: 'Internal error; its detail is in the log only',
  503: 'The database cannot be reached right now; try again shortly',
} as const;

/** An OCPI envelope of any status, as a peer or a CPO system answers through the edge. */
export const ANY_OCPI_ENVELOPE = {
  type: 'object',
  required: ['status_code', 'timestamp'],
  properties: {
    data: {},
    status_code: { type: 'integer', example: OcpiStatus.SUCCESS },
    status_message: { type: 'string' },
    timestamp: TIMESTAMP,
  },
};

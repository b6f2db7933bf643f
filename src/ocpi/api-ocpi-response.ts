import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';
import { OcpiStatus } from './envelope.js';

const TIMESTAMP = { type: 'string', example: '2020-01-08T10:24:52Z' };

/**
 * Documents what an OCPI handler answers: the 2.1.1 envelope around `data` of the given DTO
 * (a list with `isArray`, an empty object without a DTO), and the error envelope of the rest.
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

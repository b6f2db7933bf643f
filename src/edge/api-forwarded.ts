import { applyDecorators } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiDefaultResponse,
  ApiOkResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiResponsesFor } from '../common/api-errors.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { ANY_OCPI_ENVELOPE } from '../ocpi/api-ocpi-response.js';

const FAR_SIDE_ANSWER = { 'application/json': { schema: ANY_OCPI_ENVELOPE } };

/**
 * Documents a route of the edge: the far side's answer (`farSide`: the upstream, the peer)
 * comes back as it gave it, whatever its status; `ours` are the statuses the edge may answer
 * itself, which the far side may answer too. On the gateway both are OCPI envelopes; on the relay
 * ours is the admin error body (`admin: true`).
 */
export function ApiForwarded(
  farSide: string,
  ours: Readonly<Record<number, string>>,
  { admin = false } = {},
): MethodDecorator {
  const description =
    `${farSide}'s answer as it gave it (status, headers, body streamed), ` +
    '`Link` URLs rewritten to go through this service again';
  return applyDecorators(
    // Nest documents 200 (201 for POST) of every route unless told otherwise.
    ApiOkResponse({ description, content: FAR_SIDE_ANSWER }),
    ApiCreatedResponse({ description, content: FAR_SIDE_ANSWER }),
    ApiDefaultResponse({ description, content: FAR_SIDE_ANSWER }),
    ApiResponsesFor(ours, (_status, text) => ({
      description: `${text}; or ${farSide}'s own answer with this status`,
      content: {
        'application/json': {
          schema: admin
            ? { oneOf: [{ $ref: getSchemaPath(ErrorBodyDto) }, ANY_OCPI_ENVELOPE] }
            : ANY_OCPI_ENVELOPE,
        },
      },
    })),
  );
}

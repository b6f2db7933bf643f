import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ApiResponseOptions } from '@nestjs/swagger';
import { ErrorBodyDto, PeerErrorBodyDto } from './error-body.dto.js';

/**
 * What any route answers about the request itself: the body is read (JSON only, 100 kB at most)
 * and the path decoded before any route runs, whatever the method.
 */
export const REQUEST_ERRORS = {
  400: 'Invalid input: bad fields (each named in `fields`), a body that is not valid JSON, or a malformed path',
  413: 'The body is larger than 100 kB',
  415: 'A body that is not sent as JSON (Content-Type: application/json)',
} as const;

/** What any route that reads the database may answer on the server's side. */
export const SERVER_ERRORS = {
  500: 'Internal error; its detail is in the log only',
  503: 'The database cannot be reached right now; try again shortly',
} as const;

/** Too many failed authentications: what a guarded route answers, with Retry-After. */
export const TOO_MANY_FAILURES =
  'Too many failed authentications from this address; Retry-After says when to try again';

/**
 * Documents each status with the admin error body, `{"status", "error", "fields"?}`; a 502 with
 * the body of a peer's failure (`step`, `error`, `status_code`). On a controller, for each of its
 * routes; a route's own description of a status replaces the controller's.
 */
export function ApiErrors(
  descriptions: Readonly<Record<number, string>>,
): ClassDecorator & MethodDecorator {
  return ApiResponsesFor(descriptions, (status, description) => ({
    description,
    type: status === 502 ? PeerErrorBodyDto : ErrorBodyDto,
  }));
}

/** One documented response per described status, its body given by `response`. */
export function ApiResponsesFor(
  descriptions: Readonly<Record<number, string>>,
  response: (status: number, description: string) => Omit<ApiResponseOptions, 'status'>,
): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ...Object.entries(descriptions).map(([status, description]) =>
      ApiResponse({
        ...response(Number(status), description),
        status: Number(status),
      }),
    ),
  );
}

import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { isConcurrentChange, isDatabaseUnavailable } from '../common/database-errors.js';
import type { ErrorBodyDto } from '../common/error-body.dto.js';
import {
  DomainError,
  fieldErrorsText,
  ForwardingError,
  InvalidRequestError,
  PeerError,
  TooManyFailuresError,
  messageOf,
} from '../common/errors.js';
import { requestFields } from '../logging/logging.module.js';
import { ocpiError, OcpiStatus, type OcpiEnvelope } from './envelope.js';

/** What an error is answered with: status, headers, and the body (sent as JSON). */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: ErrorBodyDto | OcpiEnvelope;
}

const logger = new Logger('Exceptions');

/**
 * The one place where errors become answers: domain errors by their status, Nest's and Express's
 * HTTP errors (unknown route, unreadable JSON, body too large) by their status, anything else as
 * an opaque 500 whose detail goes to the log only. Routes under /ocpi answer in the OCPI
 * envelope, the others with the admin error body. Used by the exception filter, and by the edge's
 * front (src/front/front.ts), which serves some routes ahead of Nest.
 */
export function errorAnswer(
  exception: unknown,
  request: IncomingMessage,
  path: string,
): ErrorAnswer {
  const body = toBody(exception, request, path);
  const headers: Record<string, string> = {};
  if (exception instanceof TooManyFailuresError) {
    headers['Retry-After'] = String(exception.retryAfterS);
  }
  // Express matches routes case-insensitively: so must the choice of error shape.
  if (path.toLowerCase().startsWith('/ocpi/')) {
    const [status, envelope] = toOcpi(body, exception);
    if (status === 401) headers['WWW-Authenticate'] = 'Token';
    return { status, headers, body: envelope };
  }
  if (body.status === 401) headers['WWW-Authenticate'] = 'Bearer';
  return { status: body.status, headers, body };
}

/** Nest's side of {@link errorAnswer}: every error thrown while Nest serves a request. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const { status, headers, body } = errorAnswer(exception, request, request.path);
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    response.status(status).json(body);
  }
}

function toBody(exception: unknown, request: IncomingMessage, path: string): ErrorBodyDto {
  if (exception instanceof InvalidRequestError) {
    return { status: 400, error: 'The request is invalid', fields: exception.fields };
  }
  if (exception instanceof PeerError) {
    return {
      status: 502,
      step: exception.step,
      error: exception.message,
      ...(exception.peerStatusCode !== undefined && { status_code: exception.peerStatusCode }),
    };
  }
  if (exception instanceof ForwardingError) {
    return { status: exception.status, step: exception.step, error: exception.message };
  }
  if (exception instanceof DomainError) {
    return { status: exception.status, error: exception.message };
  }
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    return {
      status: exception.getStatus(),
      error: clientMessage(exception, request.method ?? 'GET', path),
    };
  }
  if (exception instanceof HttpException) {
    // Deliberate 5xx, e.g. the readiness check's 503 when the database is away.
    return { status: exception.getStatus(), error: exception.message };
  }
  if (isConcurrentChange(exception)) {
    return {
      status: 409,
      error: 'A concurrent change of the same operation got in the way: read it again, then retry',
    };
  }
  if (isDatabaseUnavailable(exception)) {
    logger.warn(requestFields(request), `Database unavailable: ${messageOf(exception)}`);
    return {
      status: 503,
      error: 'The service cannot reach its database right now; try again shortly',
    };
  }
  logger.error(
    requestFields(request),
    exception instanceof Error ? exception.stack : String(exception),
  );
  return { status: 500, error: 'Internal error' };
}

/** DESIGN section 5: HTTP status and OCPI status code of each outcome on an OCPI route. */
function toOcpi(body: ErrorBodyDto, exception: unknown): [number, OcpiEnvelope] {
  if (exception instanceof PeerError) {
    // The request was fine; the call-back to the caller's own API failed: HTTP 200, 300x.
    return [200, ocpiError(exception.ocpiStatusCode, exception.message)];
  }
  // Bad, too large, or not JSON: the body is the problem.
  if (body.status === 400 || body.status === 413 || body.status === 415) {
    const detail = body.fields ? fieldErrorsText(body.fields) : body.error;
    return [
      body.status,
      ocpiError(OcpiStatus.INVALID_PARAMETERS, `Invalid or missing parameters: ${detail}`),
    ];
  }
  if (body.status < 500) return [body.status, ocpiError(OcpiStatus.CLIENT_ERROR, body.error)];
  return [body.status, ocpiError(OcpiStatus.SERVER_ERROR, body.error)];
}

function clientMessage(exception: HttpException, method: string, path: string): string {
  switch (exception.getStatus()) {
    case 404:
      return `No route ${method} ${path}`;
    case 413:
      return 'The request body is too large';
    case 400:
      // body-parser's own message names the JSON problem but may quote the body: keep it generic.
      return (exception.cause as { type?: string } | undefined)?.type === 'entity.parse.failed' ||
        /JSON/.test(exception.message)
        ? 'The request body is not valid JSON'
        : 'The request is malformed';
    default:
      return exception.message;
  }
}

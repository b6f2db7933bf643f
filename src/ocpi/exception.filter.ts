import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
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
} from '../common/errors.js';
import { ocpiError, OcpiStatus, type OcpiEnvelope } from './envelope.js';

/**
 * The one place where errors become responses: domain errors by their status, Nest's and Express's
 * HTTP errors (unknown route, unreadable JSON, body too large) by their status, anything else as
 * an opaque 500 whose detail goes to the log only. Routes under /ocpi answer in the OCPI
 * envelope, the others with the admin error body.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const body = this.toBody(exception, request);
    if (exception instanceof TooManyFailuresError) {
      response.setHeader('Retry-After', String(exception.retryAfterS));
    }
    // Express matches routes case-insensitively: so must the choice of error shape.
    if (request.path.toLowerCase().startsWith('/ocpi/')) {
      const [status, envelope] = toOcpi(body, exception);
      if (status === 401) response.setHeader('WWW-Authenticate', 'Token');
      response.status(status).json(envelope);
      return;
    }
    if (body.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    response.status(body.status).json(body);
  }

  private toBody(exception: unknown, request: Request): ErrorBodyDto {
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
      return { status: exception.getStatus(), error: clientMessage(exception, request) };
    }
    if (exception instanceof HttpException) {
      // Deliberate 5xx, e.g. the readiness check's 503 when the database is away.
      return { status: exception.getStatus(), error: exception.message };
    }
    if (isConcurrentChange(exception)) {
      return {
        status: 409,
        error:
          'A concurrent change of the same operation got in the way: read it again, then retry',
      };
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(
        `Database unavailable: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
      return {
        status: 503,
        error: 'The service cannot reach its database right now; try again shortly',
      };
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return { status: 500, error: 'Internal error' };
  }
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

function clientMessage(exception: HttpException, request: Request): string {
  switch (exception.getStatus()) {
    case 404:
      return `No route ${request.method} ${request.path}`;
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

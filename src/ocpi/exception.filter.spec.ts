import {
  BadRequestException,
  NotFoundException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import {
  ConflictError,
  InvalidRequestError,
  NotAllowedError,
  NotFoundError,
  PeerError,
  TooManyFailuresError,
  UnauthorizedError,
} from '../common/errors.js';
import { AllExceptionsFilter } from './exception.filter.js';

/** What the filter answered: status, headers and body. */
function answer(exception: unknown, path: string) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
  const response = {
    setHeader: (name: string, value: string) => void (sent.headers[name] = value),
    status(code: number) {
      sent.status = code;
      return this;
    },
    json: (body: unknown) => void (sent.body = body),
  };
  const host = {
    switchToHttp: () => ({
      getResponse: () => response,
      getRequest: () => ({ path, method: 'POST' }),
    }),
  } as unknown as ArgumentsHost;
  new AllExceptionsFilter().catch(exception, host);
  return sent;
}

const OCPI = '/ocpi/FR/AB1/2.1.1/credentials';
const unavailable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
  code: 'ECONNREFUSED',
});

describe('AllExceptionsFilter on OCPI routes: HTTP status and OCPI status_code of each outcome', () => {
  it.each<[string, unknown, number, number]>([
    ['bad body', new InvalidRequestError([{ field: 'url', message: 'is missing' }]), 400, 2001],
    ['body not JSON', new BadRequestException('Unexpected token in JSON'), 400, 2001],
    ['body too large', new PayloadTooLargeException(), 413, 2001],
    ['body not sent as JSON', new UnsupportedMediaTypeException('Send JSON'), 415, 2001],
    ['no valid token', new UnauthorizedError('A valid token is required'), 401, 2000],
    ['unknown operation', new NotFoundError('No operation FR/AB9'), 404, 2000],
    ['state rule', new NotAllowedError('The peer is registered already'), 405, 2000],
    ['concurrent handshake', new ConflictError('Another handshake is in progress'), 409, 2000],
    ['too many failures', new TooManyFailuresError(12), 429, 2000],
    ['call-back failed', new PeerError('versions', 3001, 'GET … answered HTTP 500'), 200, 3001],
    ['no mutual version', new PeerError('versions', 3002, 'no 2.1.1'), 200, 3002],
    ['no credentials endpoint', new PeerError('version_details', 3003, 'none'), 200, 3003],
    [
      'a concurrent change won',
      Object.assign(new Error('deadlock'), { driverError: { code: '40P01' } }),
      409,
      2000,
    ],
    ['database away', unavailable, 503, 3000],
    ['a bug', new TypeError('x is undefined'), 500, 3000],
  ])('%s: HTTP %i, status_code %i', (_case, exception, status, statusCode) => {
    const { status: sent, body } = answer(exception, OCPI);
    expect(sent).toBe(status);
    expect(body).toEqual({
      status_code: statusCode,
      status_message: expect.any(String),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
  });

  it('names the bad fields in the 2001 message', () => {
    const { body } = answer(
      new InvalidRequestError([{ field: 'url', message: 'is missing' }]),
      OCPI,
    );
    expect(body).toMatchObject({
      status_message: 'Invalid or missing parameters: url: is missing',
    });
  });

  it('asks for a Token on 401 and says when to come back on 429', () => {
    expect(answer(new UnauthorizedError('no'), OCPI).headers).toEqual({
      'WWW-Authenticate': 'Token',
    });
    expect(answer(new TooManyFailuresError(12), OCPI).headers).toEqual({ 'Retry-After': '12' });
  });

  it('never shows what a bug said', () => {
    expect(answer(new TypeError('secret detail'), OCPI).body).toMatchObject({
      status_message: 'Internal error',
    });
  });

  it('matches the OCPI prefix in any case, as routes do', () => {
    expect(answer(new NotFoundException(), '/OCPI/fr/ab1/versions').body).toHaveProperty(
      'status_code',
      2000,
    );
  });
});

describe('AllExceptionsFilter on admin routes: the admin error body', () => {
  it('lists each bad field on 400', () => {
    expect(
      answer(new InvalidRequestError([{ field: 'operator_id', message: 'is bad' }]), '/admin/x'),
    ).toEqual({
      status: 400,
      headers: {},
      body: {
        status: 400,
        error: 'The request is invalid',
        fields: [{ field: 'operator_id', message: 'is bad' }],
      },
    });
  });

  it('gives the step, the message and the peer status_code on 502', () => {
    expect(
      answer(new PeerError('credentials', 3001, 'POST … failed', 2001), '/admin/x').body,
    ).toEqual({
      status: 502,
      step: 'credentials',
      error: 'POST … failed',
      status_code: 2001,
    });
  });

  it('asks for a Bearer token on 401', () => {
    expect(answer(new UnauthorizedError('no'), '/admin/x')).toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  });

  it('answers 503 when the database is away, with what to do', () => {
    expect(answer(unavailable, '/admin/x').body).toEqual({
      status: 503,
      error: 'The service cannot reach its database right now; try again shortly',
    });
  });
});

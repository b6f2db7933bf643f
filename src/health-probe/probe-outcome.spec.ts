import { PeerError } from '../common/errors.js';
import { failedProbe } from './probe-outcome.js';

const failure = (message: string) => new PeerError('versions', 3001, message);

describe('failedProbe', () => {
  it.each([401, 403])('is REJECTED on HTTP %i, saying to register again', (status) => {
    const outcome = failedProbe(
      failure(`GET https://hub/versions answered HTTP ${status}`),
      status,
    );
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.error).toMatch(
      new RegExp(`^GET https://hub/versions answered HTTP ${status}: .*register again`),
    );
  });

  it.each([
    ['an error status', 500],
    ['a 2xx without status_code 1000', 200],
    ['a 404', 404],
    ['no answer at all', null],
  ])('is DOWN on %s, with the peer failure as the error', (_what, status) => {
    expect(failedProbe(failure('GET https://hub/versions failed'), status)).toEqual({
      status: 'DOWN',
      error: 'GET https://hub/versions failed',
    });
  });

  it('is DOWN without words of its own on an unexpected error', () => {
    expect(failedProbe(new Error('secret detail'), null)).toEqual({
      status: 'DOWN',
      error: 'The probe failed: internal error',
    });
  });
});

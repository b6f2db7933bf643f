import { ocpiError, ocpiSuccess, ocpiTimestamp } from './envelope.js';

describe('OCPI envelope', () => {
  it('writes timestamps in UTC without fraction or offset', () => {
    expect(ocpiTimestamp(new Date('2020-01-08T10:24:52.987+01:00'))).toBe('2020-01-08T09:24:52Z');
  });

  it('wraps data in a 1000 success', () => {
    expect(ocpiSuccess({})).toEqual({
      data: {},
      status_code: 1000,
      status_message: 'Success',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
  });

  it('leaves data out of errors', () => {
    expect(ocpiError(2000, 'nope')).not.toHaveProperty('data');
  });
});

import { backoffMs, judgeAnswer, prefersRespondAsync } from './delivery-rules.js';

const envelope = (code: number, message?: string) =>
  JSON.stringify({ status_code: code, status_message: message, timestamp: '2026-12-01T00:00:00Z' });

describe('judgeAnswer', () => {
  it('delivers a 2xx with OCPI 1000, and a 2xx that is not an OCPI envelope', () => {
    expect(judgeAnswer(200, envelope(1000))).toEqual({ outcome: 'delivered' });
    expect(judgeAnswer(204, '')).toEqual({ outcome: 'delivered' });
    expect(judgeAnswer(201, 'ok')).toEqual({ outcome: 'delivered' });
  });

  it.each([500, 502, 503, 504, 429])('retries HTTP %i', (status) => {
    expect(judgeAnswer(status, envelope(3000, 'busy'))).toEqual({
      outcome: 'retry',
      error: `HTTP ${status}, status_code 3000 (busy)`,
    });
  });

  it('retries a 2xx carrying OCPI 3xxx', () => {
    expect(judgeAnswer(200, envelope(3001))).toEqual({
      outcome: 'retry',
      error: 'HTTP 200, status_code 3001',
    });
  });

  it.each([400, 401, 403, 404, 405, 409, 413])('kills HTTP %i', (status) => {
    expect(judgeAnswer(status, 'nope')).toEqual({ outcome: 'dead', error: `HTTP ${status}` });
  });

  it('kills a 2xx carrying OCPI 2xxx, and a redirect', () => {
    expect(judgeAnswer(200, envelope(2001, 'bad'))).toMatchObject({ outcome: 'dead' });
    expect(judgeAnswer(302, '')).toMatchObject({ outcome: 'dead' });
  });

  it("keeps only the start of the peer's message", () => {
    const result = judgeAnswer(500, envelope(3000, 'x'.repeat(1000)));
    expect(result.outcome === 'retry' && result.error.length).toBeLessThan(250);
  });
});

describe('backoffMs', () => {
  it('doubles from 1 s, between half and all of it', () => {
    expect(backoffMs(1, 300, 0)).toBe(500);
    expect(backoffMs(1, 300, 1)).toBe(1000);
    expect(backoffMs(3, 300, 1)).toBe(4000);
    expect(backoffMs(4, 300, 0.5)).toBe(6000);
  });

  it('never waits longer than the cap, even after very many attempts', () => {
    expect(backoffMs(10_000, 300, 1)).toBe(300_000);
    expect(backoffMs(50, 1, 1)).toBe(1000);
  });
});

describe('prefersRespondAsync', () => {
  it.each([
    'respond-async',
    'Respond-Async',
    'respond-async, wait=5',
    'wait=5, respond-async',
    'return=minimal; foo="bar", respond-async',
    ' respond-async ;x=1',
  ])('finds it in %p', (header) => expect(prefersRespondAsync(header)).toBe(true));

  it.each([
    undefined,
    '',
    'wait=5',
    'return=representation',
    'respond-asynchronously',
    'x=respond-async',
  ])('does not find it in %p', (header) => expect(prefersRespondAsync(header)).toBe(false));

  it('reads several Prefer headers as one list', () => {
    expect(prefersRespondAsync(['wait=5', 'respond-async'])).toBe(true);
  });
});

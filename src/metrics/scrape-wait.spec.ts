import { withinScrapeWait } from './scrape-wait.js';

describe('withinScrapeWait', () => {
  it('gives the counts that come in time', async () => {
    await expect(withinScrapeWait(Promise.resolve({ UP: 3 }))).resolves.toEqual({ UP: 3 });
  });

  it('gives nothing when the counting fails', async () => {
    await expect(withinScrapeWait(Promise.reject(new Error('database away')))).resolves.toBe(
      undefined,
    );
  });

  it('gives nothing, after 2 s, when the counting does not end', async () => {
    const started = Date.now();
    await expect(withinScrapeWait(new Promise(() => undefined))).resolves.toBe(undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_950);
  });
});

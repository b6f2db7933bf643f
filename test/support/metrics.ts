import type { AppHandle } from './test-app.js';

/**
 * Scrapes GET /metrics with `authorization` (the admin token by default) and returns a lookup of
 * one series' value, e.g. `http_requests_total{method="GET",...}`; undefined when absent.
 */
export async function scrapeMetrics(
  t: AppHandle,
  authorization = t.admin.Authorization,
): Promise<(series: string) => number | undefined> {
  const response = await t.http
    .get('/metrics')
    .set({ Authorization: authorization })
    .expect(200)
    .expect('Content-Type', /^text\/plain; version=0\.0\.4/);
  const values = new Map(
    response.text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))] as const;
      }),
  );
  return (series) => values.get(series);
}

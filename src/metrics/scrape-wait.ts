/** How long a scrape waits for what it counts in the database; Prometheus gives it 10 s by default. */
const SCRAPE_WAIT_MS = 2_000;

/**
 * What `counting` gives, or undefined when it fails or is not done within {@link SCRAPE_WAIT_MS}:
 * with the database away or slow, the scrape still answers, in time, without these figures.
 */
export async function withinScrapeWait<T>(counting: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, SCRAPE_WAIT_MS, undefined);
  });
  try {
    return await Promise.race([counting, timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

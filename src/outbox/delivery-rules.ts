/**
 * What became of one attempt, as the worker acts on it: `delivered`; `retry` (the queue waits
 * behind it); `dead` (refused: sending again will not help, the queue moves on); `held` (not
 * sendable now, e.g. the operation is unregistered: no attempt is counted, nothing was sent).
 */
export type SendResult =
  | { outcome: 'delivered' }
  | { outcome: 'retry'; error: string }
  | { outcome: 'dead'; error: string }
  | { outcome: 'held'; reason: string };

/** How much of an answer is read to judge it (its OCPI envelope); the rest is not needed. */
const JUDGED_ANSWER_BYTES = 64 * 1024;

/** The start of an answer, enough to judge it by its envelope; the rest is dropped. */
export async function readJudged(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= JUDGED_ANSWER_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * DESIGN 9.3 on one answer: HTTP 5xx or 429 → retry; any other 4xx → dead; a 2xx whose OCPI
 * `status_code` is 3xxx → retry, 2xxx → dead; any other 2xx → delivered (an answer that is not an
 * OCPI envelope is the receiver's business: a webhook receiver answers as it likes). A 1xx/3xx
 * final status (a redirect, not followed) is dead: the target moved, sending again won't help.
 * `describe` gives the peer's words, already cleaned of secrets by the caller.
 */
export function judgeAnswer(httpStatus: number, answer: string): SendResult {
  const envelope = ocpiStatusOf(answer);
  const said =
    `HTTP ${httpStatus}` +
    (envelope ? `, status_code ${envelope.code}` : '') +
    (envelope?.message ? ` (${envelope.message})` : '');
  if (httpStatus >= 500 || httpStatus === 429) return { outcome: 'retry', error: said };
  if (httpStatus < 200 || httpStatus >= 300) return { outcome: 'dead', error: said };
  if (envelope && envelope.code >= 3000 && envelope.code < 4000) {
    return { outcome: 'retry', error: said };
  }
  if (envelope && envelope.code >= 2000 && envelope.code < 3000) {
    return { outcome: 'dead', error: said };
  }
  return { outcome: 'delivered' };
}

/** What an error message keeps of the peer's own words. */
const MAX_PEER_MESSAGE = 200;

function ocpiStatusOf(answer: string): { code: number; message?: string } | undefined {
  try {
    const value: unknown = JSON.parse(answer);
    if (typeof value !== 'object' || value === null || !('status_code' in value)) return undefined;
    const code = value.status_code;
    if (typeof code !== 'number') return undefined;
    const message =
      'status_message' in value && typeof value.status_message === 'string'
        ? value.status_message.slice(0, MAX_PEER_MESSAGE)
        : undefined;
    return { code, message };
  } catch {
    return undefined;
  }
}

/**
 * The wait before attempt `attempts + 1`: 1 s doubled per attempt, capped at `maxS`, then "equal
 * jitter" (between half and all of it), so that queues that failed together do not all come back
 * in the same instant.
 */
export function backoffMs(attempts: number, maxS: number, random = Math.random()): number {
  const capped = Math.min(maxS * 1000, 1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(capped / 2 + (capped / 2) * random);
}

/**
 * Whether a `Prefer` header asks for `respond-async` (RFC 7240): preferences are separated by
 * commas, each a token with an optional `=value` and `;` parameters, names case-insensitive;
 * several Prefer headers count as one list.
 */
export function prefersRespondAsync(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  return [header]
    .flat()
    .flatMap((h) => h.split(','))
    .some((preference) => {
      const name = preference.split(/[;=]/, 1)[0]?.trim().toLowerCase();
      return name === 'respond-async';
    });
}

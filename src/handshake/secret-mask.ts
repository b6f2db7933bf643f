/** What a masked secret reads as. */
export const MASK = '[token]';

/**
 * Shortest run of a secret's Base64 (not starting on its first byte) worth masking: shorter runs
 * are likely to occur by chance in anything, and reveal too little to matter.
 */
const MIN_BASE64_RUN = 8;

/**
 * `text` with every copy of the secrets replaced by {@link MASK}: as is, percent-encoded (as
 * encodeURIComponent does, or every byte, escapes in either case), hex (either case), Base64 and
 * Base64url. A secret is found in Base64 wherever it sits in the encoded bytes: the run of its
 * encoding that does not depend on its neighbours is masked for each of the three alignments (at
 * most two of its bytes stay readable at each end).
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const patterns = secrets.filter((s) => s.length > 0 && mayHold(text, s)).flatMap(patternsOf);
  if (patterns.length === 0) return text;
  // Longest first: where two forms overlap, the whole of the longer one goes.
  patterns.sort((a, b) => b.length - a.length);
  return text.replace(new RegExp(patterns.map((p) => p.source).join('|'), 'g'), MASK);
}

/**
 * Whether `text` may hold a copy of `secret`: only then is its expression built. Compiling a new
 * one for each call cost most of a connection's health probe once a replica saw more tokens than
 * V8 keeps compiled expressions for (1.45 times the CPU per probe at 10,000 connections as at
 * 100). A `%` anywhere may start a percent-encoded copy; the other forms are found as they are.
 */
function mayHold(text: string, secret: string): boolean {
  if (text.includes('%') || text.includes(secret)) return true;
  const bytes = Buffer.from(secret, 'utf8');
  if (text.toLowerCase().includes(bytes.toString('hex'))) return true;
  return base64Runs(bytes).some(({ run, url }) => text.includes(run) || text.includes(url));
}

/**
 * The Base64 of `bytes` for each of the three alignments it may sit at in encoded bytes, and its
 * Base64url: from the first byte the whole encoding, its last partial group included, without
 * padding; from a later byte the whole groups of three bytes only (runs shorter than
 * {@link MIN_BASE64_RUN} left out).
 */
function base64Runs(bytes: Buffer): { skip: number; run: string; url: string }[] {
  const runs: { skip: number; run: string; url: string }[] = [];
  for (let skip = 0; skip < 3 && skip < bytes.length; skip++) {
    const end = skip === 0 ? bytes.length : skip + Math.floor((bytes.length - skip) / 3) * 3;
    const run = bytes.subarray(skip, end).toString('base64').replace(/=+$/, '');
    if (skip > 0 && run.length < MIN_BASE64_RUN) continue;
    runs.push({ skip, run, url: run.replace(/\+/g, '-').replace(/\//g, '_') });
  }
  return runs;
}

interface Pattern {
  source: string;
  /** The length of text it matches at least, to order the alternatives. */
  length: number;
}

function patternsOf(secret: string): Pattern[] {
  const bytes = Buffer.from(secret, 'utf8');
  // As is or percent-encoded, char by char: each char as itself or as its %XX escapes.
  const percent = [...secret]
    .map((char) => {
      const escapes = [...Buffer.from(char, 'utf8')].map((b) => `%${anyCase(hex(b))}`).join('');
      return `(?:${escapeRegExp(char)}|${escapes})`;
    })
    .join('');
  const patterns: Pattern[] = [
    { source: percent, length: secret.length },
    { source: anyCase(bytes.toString('hex')), length: bytes.length * 2 },
  ];
  for (const { skip, run, url } of base64Runs(bytes)) {
    // Its padding, when the encoding ends with it, goes too.
    const padding = skip === 0 && bytes.length % 3 !== 0 ? '={0,2}' : '';
    for (const form of new Set([run, url])) {
      patterns.push({ source: escapeRegExp(form) + padding, length: form.length });
    }
  }
  return patterns;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** A regular expression matching `text` with its letters in either case. */
function anyCase(text: string): string {
  return [...text]
    .map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : escapeRegExp(c)))
    .join('');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

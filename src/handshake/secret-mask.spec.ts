import { MASK, maskSecrets } from './secret-mask.js';

const TOKEN = 'Zm9v/bar+baz=?&tok-en_01234567';
const OTHER = 'iop-token-C-1';

const base64 = (s: string) => Buffer.from(s).toString('base64');
const base64url = (s: string) => Buffer.from(s).toString('base64url');
const hex = (s: string) => Buffer.from(s).toString('hex');

describe('maskSecrets', () => {
  it.each<[string, (s: string) => string]>([
    ['as is', (s) => s],
    ['Base64', base64],
    ['Base64 without padding', (s) => base64(s).replace(/=+$/, '')],
    ['Base64url', base64url],
    ['hex', hex],
    ['HEX', (s) => hex(s).toUpperCase()],
    ['percent-encoded (encodeURIComponent)', encodeURIComponent],
    [
      'percent-encoded, lower-case escapes',
      (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    ],
    ['percent-encoded, every byte', (s) => hex(s).replace(/../g, '%$&')],
  ])('masks a token %s', (_name, encode) => {
    const text = `Unknown token ${encode(TOKEN)}, nor ${encode(OTHER)}.`;
    expect(maskSecrets(text, [TOKEN, OTHER])).toBe(`Unknown token ${MASK}, nor ${MASK}.`);
  });

  it.each([0, 1, 2, 3, 4, 5])(
    'masks a token inside Base64 of a longer text (%i bytes before it)',
    (before) => {
      for (const encode of [base64, base64url]) {
        const encoded = encode(`${'x'.repeat(before)}Token ${TOKEN} was not found`);
        const masked = maskSecrets(`echo: ${encoded}`, [TOKEN]);
        expect(masked).toContain(MASK);
        // What is left of the encoding reveals at most two bytes of the token at each end.
        for (const run of masked.split(MASK).slice(1, -1)) expect(run).toBe('');
        expect(masked).not.toContain(encode(TOKEN).slice(4, -4));
      }
    },
  );

  it('keeps the text around, and any text when there is no token', () => {
    expect(maskSecrets('GET https://peer.example/versions answered HTTP 401', [TOKEN])).toBe(
      'GET https://peer.example/versions answered HTTP 401',
    );
    expect(maskSecrets('anything', [])).toBe('anything');
    expect(maskSecrets('anything', [''])).toBe('anything');
  });

  it('treats a token with characters special to regular expressions as text', () => {
    const token = 'a.b*c(d)[e]{f}|g\\h^i$j';
    expect(maskSecrets(`x ${token} y aXbXc`, [token])).toBe(`x ${MASK} y aXbXc`);
  });
});

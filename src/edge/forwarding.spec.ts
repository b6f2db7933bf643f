import { rebase, rewriteLinks, trimBase, under } from './forwarding.js';

describe('rebase: a URL of the far side as the caller reaches it through the edge', () => {
  const from = 'http://up.internal/cpo/locations';
  const to = 'https://ocpi.cpo.example/ocpi/FR/AB1/2.1.1/locations';

  it.each([
    [from, to],
    [`${from}?offset=10&limit=5`, `${to}?offset=10&limit=5`],
    [`${from}/FR/AB1/LOC1`, `${to}/FR/AB1/LOC1`],
  ])('moves %s', (url, moved) => expect(rebase(url, from, to)).toBe(moved));

  it.each([`${from}-archive`, 'http://up.internal/cpo', 'http://other.example/cpo/locations'])(
    'leaves %s alone',
    (url) => expect(rebase(url, from, to)).toBeUndefined(),
  );
});

describe('rewriteLinks', () => {
  it('rewrites each URL of a Link header that the function moves, and keeps the rest', () => {
    const header = '<http://up/l?offset=5>; rel="next", <http://elsewhere/x>; rel="alternate"';
    expect(rewriteLinks(header, (url) => rebase(url, 'http://up/l', 'https://pub/m'))).toBe(
      '<https://pub/m?offset=5>; rel="next", <http://elsewhere/x>; rel="alternate"',
    );
  });
});

describe("under: the far side's origin and path", () => {
  it.each([
    [
      'http://up:8080/cpo/locations/',
      '/FR/1?x=1',
      { origin: 'http://up:8080', path: '/cpo/locations/FR/1?x=1' },
    ],
    ['http://up', '?limit=1', { origin: 'http://up', path: '/?limit=1' }],
    [
      'https://peer.example/ocpi/emsp/2.1.1/tokens',
      '',
      { origin: 'https://peer.example', path: '/ocpi/emsp/2.1.1/tokens' },
    ],
  ])('%s + %s', (base, tail, expected) => expect(under(base, tail)).toEqual(expected));

  it('trims trailing slashes of a base only', () => {
    expect(trimBase('http://up/a//')).toBe('http://up/a');
    expect(trimBase('http://up/a')).toBe('http://up/a');
  });
});

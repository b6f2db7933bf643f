import { InvalidRequestError } from '../common/errors.js';
import { checkedTail, isEdgePath, segmentOf } from './edge-paths.js';

describe('isEdgePath: whose bodies stream through unparsed', () => {
  it.each([
    '/relay/FR*AB1/locations',
    '/relay/FRAB1/url',
    '/ocpi/FR/AB1/2.1.1/locations',
    '/ocpi/fr/ab1/2.1.1/locations/FR/AB1/LOC1',
    '/OCPI/FR/AB1/2.1.1/tokens/',
    '/ocpi/FR/AB1/2.1.1/credentials/extra',
  ])('%s is', (path) => expect(isEdgePath(path)).toBe(true));

  it.each([
    '/ocpi/FR/AB1/2.1.1/credentials',
    '/ocpi/FR/AB1/2.1.1/Credentials/',
    '/ocpi/FR/AB1/2.1.1',
    '/ocpi/FR/AB1/versions',
    '/admin/operations',
    '/relayed',
  ])('%s is not', (path) => expect(isEdgePath(path)).toBe(false));
});

describe('checkedTail: what goes after the base of the far side', () => {
  it.each([
    ['/ocpi/FR/AB1/2.1.1/locations', ''],
    ['/ocpi/FR/AB1/2.1.1/locations/', '/'],
    ['/ocpi/FR/AB1/2.1.1/locations?limit=5', '?limit=5'],
    ['/ocpi/FR/AB1/2.1.1/locations/FR/AB1/LOC%201?a=1&b=2', '/FR/AB1/LOC%201?a=1&b=2'],
  ])('%s gives %s', (url, tail) => expect(checkedTail(url, 5)).toBe(tail));

  it.each(['/x/y/..', '/x/y/./z', '/x/y/%2e%2E/z', '/x/y/%2e'])('refuses %s', (url) => {
    expect(() => checkedTail(url, 2)).toThrow(InvalidRequestError);
  });
});

describe('segmentOf', () => {
  it('decodes one segment, and keeps a malformed one as is', () => {
    expect(segmentOf('/relay/FR%2AAB1/locations?x=1', 2)).toBe('FR*AB1');
    expect(segmentOf('/relay/FR*AB1/locations?x=1', 3)).toBe('locations');
    expect(segmentOf('/relay/%E0%A4%A/x', 2)).toBe('%E0%A4%A');
    expect(segmentOf('/relay', 3)).toBe('');
  });
});

import { decodedSegment } from './path-segment.js';

describe('decodedSegment', () => {
  it.each([
    ['FR%2AAB1', 'FR*AB1'],
    ['LOC%201', 'LOC 1'],
    ['%C3%A9t%C3%A9', 'été'],
    ['FR*AB1', 'FR*AB1'],
    ['', ''],
  ])('decodes %s as %s', (segment, value) => expect(decodedSegment(segment)).toBe(value));

  it.each(['%E0%A4%A', '%', '100%', '%ZZ', '%C3'])('keeps %s, malformed, as sent', (segment) =>
    expect(decodedSegment(segment)).toBe(segment),
  );
});

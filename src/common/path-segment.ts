/**
 * A segment of a raw request path (a path parameter), percent-decoded; one that does not decode
 * (a malformed escape such as `%E0%A4%A`) is kept as sent rather than thrown on, so that the
 * checks and look-ups on the value answer it as they answer any other value.
 */
export function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

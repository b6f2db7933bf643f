/**
 * Calls a control route (`/sim/register`, `/sim/received`…) of the hub simulator at `hubUrl`, as
 * the README's walk-throughs do with curl; its JSON answer.
 */
export async function hubControl(
  hubUrl: string,
  method: string,
  path: string,
  body?: object,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${hubUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

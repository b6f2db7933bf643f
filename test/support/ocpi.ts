import type { FakePeer } from './fake-peer.js';
import type { AppHandle } from './test-app.js';

export const OCPI_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Creates an operation through the admin API and returns its id. */
export async function createOperation(
  t: AppHandle,
  operatorId = 'FR*AB1',
  name = 'Operation AB1',
): Promise<string> {
  const response = await t.http
    .post('/admin/operations')
    .set(t.admin)
    .send({
      operator_id: operatorId,
      business_details: { name },
      endpoints: [{ identifier: 'locations', url: 'https://cpo.example/ocpi/2.1.1/locations' }],
    })
    .expect(201);
  return (response.body as { id: string }).id;
}

/** Mints a token A through the admin API. */
export async function mintTokenA(
  t: AppHandle,
  operation = 'FR*AB1',
  body: object = {},
): Promise<string> {
  const response = await t.http
    .post(`/admin/operations/${operation}/registration-tokens`)
    .set(t.admin)
    .send(body)
    .expect(201);
  return (response.body as { token: string }).token;
}

/**
 * Registers FR*AB1 with `peer` through the admin API (ToIOP, with the token the peer expects);
 * returns the path of the peer's modules.
 */
export async function registerWithPeer(t: AppHandle, peer: FakePeer): Promise<string> {
  await t.http
    .post('/admin/operations/FR*AB1/register')
    .set(t.admin)
    .send({ versions_url: peer.versionsUrl, token: peer.expectedToken })
    .expect(200);
  return new URL(peer.versionsUrl).pathname.replace(/versions$/, '2.1.1');
}

export const tokenHeader = (token: string) => ({ Authorization: `Token ${token}` });

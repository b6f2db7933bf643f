import { authorize, ForbiddenError, type Access } from './access.decorators.js';
import type { Principal } from './principal.js';
import { SCOPES } from './scopes.js';

const provider: Principal = { kind: 'provider', name: 'ADMIN_TOKEN', scopes: SCOPES };
const relayToken: Principal = { kind: 'token', name: 'RELAY_TOKEN', scopes: ['relay'] };
const key: Principal = {
  kind: 'key',
  keyId: 'k1',
  name: 'reader',
  organisationId: 'o1',
  scopes: ['operations:read', 'relay'],
};

const refusal = (principal: Principal, access: Access): string | undefined => {
  try {
    authorize(principal, access);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return (error as ForbiddenError).message;
  }
};

describe('authorize', () => {
  it('lets a principal holding the scope through, and names the missing scope otherwise', () => {
    expect(refusal(key, { scope: 'operations:read' })).toBeUndefined();
    expect(refusal(key, { scope: 'operations:write' })).toBe(
      'Scope operations:write is required: this API key has operations:read, relay',
    );
    expect(refusal(relayToken, { scope: 'metrics' })).toBe(
      'Scope metrics is required: this token has relay',
    );
    for (const scope of SCOPES) expect(refusal(provider, { scope })).toBeUndefined();
  });

  it('opens provider routes to ADMIN_TOKEN only', () => {
    expect(refusal(provider, { provider: true })).toBeUndefined();
    expect(refusal(key, { provider: true })).toMatch(/ADMIN_TOKEN/);
    expect(
      refusal({ ...key, organisationId: undefined, scopes: SCOPES }, { provider: true }),
    ).toMatch(/ADMIN_TOKEN/);
  });

  it('opens the key routes to the admin token and keys, not to the one-scope tokens', () => {
    expect(refusal(provider, { keys: true })).toBeUndefined();
    expect(refusal(key, { keys: true })).toBeUndefined();
    expect(refusal(relayToken, { keys: true })).toBe(
      'RELAY_TOKEN manages no API keys: use the admin token or an API key',
    );
  });
});

import type { TokenKind, TokenState } from './issued-token.entity.js';
import { accessTo, roleOf, type OcpiRoute, type TokenRole } from './token-access.js';

describe('roleOf', () => {
  it.each<[TokenKind, TokenState, TokenRole | undefined]>([
    ['REGISTRATION', 'ACTIVE', 'REGISTRATION'],
    ['REGISTRATION', 'PENDING', undefined],
    ['REGISTRATION', 'REREGISTER_ONLY', undefined],
    ['REGISTRATION', 'REVOKED', undefined],
    ['CONNECTION', 'ACTIVE', 'CONNECTION'],
    ['CONNECTION', 'PENDING', 'CALLBACK'],
    ['CONNECTION', 'REREGISTER_ONLY', 'REREGISTRATION'],
    ['CONNECTION', 'REVOKED', undefined],
  ])('gives a %s token in state %s the role %s', (kind, state, role) => {
    expect(roleOf(kind, state, false)).toBe(role);
  });

  it('gives an expired token no role, whatever its kind and state', () => {
    expect(roleOf('REGISTRATION', 'ACTIVE', true)).toBeUndefined();
    expect(roleOf('CONNECTION', 'REREGISTER_ONLY', true)).toBeUndefined();
    expect(roleOf('CONNECTION', 'ACTIVE', true)).toBeUndefined();
  });
});

describe('accessTo: which token opens what', () => {
  // Columns: token A, connection token, call-back token, grace token, no valid token.
  const table: Record<OcpiRoute, [string, string, string, string, string]> = {
    versions: ['allow', 'allow', 'allow', 'allow', '401'],
    'credentials.get': ['401', 'allow', '401', '401', '401'],
    'credentials.post': ['allow', '405', '401', 'allow', '401'],
    'credentials.put': ['405', 'allow', '401', '405', '401'],
    'credentials.delete': ['405', 'allow', '401', '405', '401'],
    module: ['401', 'allow', '401', '401', '401'],
  };
  const roles = ['REGISTRATION', 'CONNECTION', 'CALLBACK', 'REREGISTRATION', undefined] as const;

  it.each(Object.entries(table) as [OcpiRoute, string[]][])('%s', (route, expected) => {
    expect(roles.map((role) => String(accessTo(route, role)))).toEqual(expected);
  });
});

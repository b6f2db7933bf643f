import type { Principal } from './principal.js';

/**
 * What the access guard asks of API keys: the principal of a valid one. An abstract class (a Nest
 * injection token) so that the guard, which every module's controllers use, does not depend on
 * where keys are kept (access/api-key-authenticator.ts provides it).
 */
export abstract class KeyAuthenticator {
  /** The principal of a valid, unexpired API key; undefined for anything else. */
  abstract authenticate(presented: string): Promise<Principal | undefined>;
}

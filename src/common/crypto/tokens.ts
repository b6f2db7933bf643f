import { createHash, randomBytes } from 'node:crypto';

/**
 * A fresh secret token: 256 bits from the CSPRNG as 43 URL-safe characters, inside OCPI's string(64).
 */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a token: what we store for tokens we only have to check. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

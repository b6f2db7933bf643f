import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box.js';

const box = (key = randomBytes(32)) => new SecretBox(key);

describe('SecretBox', () => {
  it('opens what it sealed', () => {
    const b = box();
    expect(b.open(b.seal('peer-token-123', 'op-1'), 'op-1')).toBe('peer-token-123');
  });

  it('never stores the plaintext and never seals twice alike', () => {
    const b = box();
    const one = b.seal('peer-token-123', 'op-1');
    expect(one.includes(Buffer.from('peer-token-123'))).toBe(false);
    expect(one.equals(b.seal('peer-token-123', 'op-1'))).toBe(false);
  });

  it('refuses a value moved to another owner', () => {
    const b = box();
    expect(() => b.open(b.seal('peer-token-123', 'op-1'), 'op-2')).toThrow();
  });

  it('refuses another key', () => {
    expect(() => box().open(box().seal('peer-token-123', 'op-1'), 'op-1')).toThrow();
  });
});

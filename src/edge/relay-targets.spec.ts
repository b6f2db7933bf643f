import type { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { NotFoundError } from '../common/errors.js';
import type { ConnectionsService } from '../operations/connections.service.js';
import type { Operation } from '../operations/operation.entity.js';
import type { OperationsService } from '../operations/operations.service.js';
import type { FollowsChanges } from '../tokens/auth-cache.js';
import type { AuthCacheListener } from '../tokens/auth-cache-listener.js';
import { RelayTargets } from './relay-targets.js';

const OPERATION_ID = '6f1c3a52-34c5-4d38-a3a8-6f0b1a2c3d4e';

function setUp() {
  let followed!: FollowsChanges;
  const listener = {
    follow: (cache: FollowsChanges) => (followed = cache),
  } as unknown as AuthCacheListener;
  let status = 'REGISTERED';
  let token = 'peer-token-1';
  const reads = { operations: 0, tokens: 0 };
  const operations = {
    resolve: (ref: string) => {
      reads.operations += 1;
      if (!/^fr\*?ab1$/i.test(ref) && ref !== OPERATION_ID) {
        return Promise.reject(new NotFoundError(`No operation ${ref}`));
      }
      return Promise.resolve({
        id: OPERATION_ID,
        countryCode: 'FR',
        partyId: 'AB1',
        connection: { status, peerEndpoints: [] },
      } as unknown as Operation);
    },
  } as unknown as OperationsService;
  const connections = {
    peerToken: () => {
      reads.tokens += 1;
      return Promise.resolve(token);
    },
  } as unknown as ConnectionsService;
  const config = {
    get: (name: string) => (name === 'authCacheEntries' ? 100 : 30),
  } as unknown as ConfigService<AppConfig, true>;
  const targets = new RelayTargets(config, listener, operations, connections);
  return {
    targets,
    followed: () => followed,
    reads,
    rotate: (next: string) => (token = next),
    unregister: () => (status = 'UNREGISTERED'),
  };
}

describe('RelayTargets', () => {
  it('reads nothing while the listener does not hear changes', async () => {
    const t = setUp();
    await t.targets.resolve('FR*AB1');
    await t.targets.resolve('FR*AB1');
    expect(t.reads).toEqual({ operations: 2, tokens: 2 });
  });

  it('answers from memory while listening, one entry however the operation is spelled', async () => {
    const t = setUp();
    t.followed().setEnabled(true);
    expect((await t.targets.resolve('FR*AB1')).token).toBe('peer-token-1');
    expect((await t.targets.resolve('frab1')).token).toBe('peer-token-1');
    expect(t.reads).toEqual({ operations: 1, tokens: 1 });
  });

  it("uses a rotated token as soon as the operation's change is heard", async () => {
    const t = setUp();
    t.followed().setEnabled(true);
    await t.targets.resolve('FR*AB1');
    t.rotate('peer-token-2');
    t.followed().invalidate(OPERATION_ID);
    expect((await t.targets.resolve('FR*AB1')).token).toBe('peer-token-2');
    t.unregister();
    t.followed().invalidate(OPERATION_ID);
    const target = await t.targets.resolve('FR*AB1');
    expect(target.operation.connection.status).toBe('UNREGISTERED');
    expect(target.token).toBeUndefined();
  });

  it('forgets everything when it stops hearing changes', async () => {
    const t = setUp();
    t.followed().setEnabled(true);
    await t.targets.resolve(OPERATION_ID);
    t.followed().setEnabled(false);
    await t.targets.resolve(OPERATION_ID);
    expect(t.reads.operations).toBe(2);
  });

  it('reads once for many calls at once, and keeps no unknown operation', async () => {
    const t = setUp();
    t.followed().setEnabled(true);
    await Promise.all(Array.from({ length: 50 }, () => t.targets.resolve('FR*AB1')));
    expect(t.reads.operations).toBe(1);
    await expect(t.targets.resolve('FR*ZZ9')).rejects.toThrow(NotFoundError);
    await expect(t.targets.resolve('FR*ZZ9')).rejects.toThrow(NotFoundError);
    expect(t.reads.operations).toBe(3);
  });
});

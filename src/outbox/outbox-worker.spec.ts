import type { ConfigService } from '@nestjs/config';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import type { SendResult } from './delivery-rules.js';
import type { OutboxMetrics } from './outbox-metrics.js';
import { OutboxSenders } from './outbox-senders.js';
import type { ClaimedDelivery, OutboxStore } from './outbox-store.js';
import { OutboxWorker } from './outbox-worker.js';

const delivery = (id: string): ClaimedDelivery => ({
  id,
  kind: 'relay',
  queue: 'relay:op:locations',
  operationId: 'op',
  attempts: 1,
  createdAt: new Date(),
  requestId: `request-${id}`,
  method: 'PUT',
  identifier: 'locations',
  path: `/FR/AB1/${id}`,
  headers: {},
  body: null,
});

/**
 * The worker over a store that hands out one queue's deliveries once, and a sender answering
 * each by its id; what the worker wrote, in the order it wrote it.
 */
async function run(taken: ClaimedDelivery[], outcomes: Record<string, SendResult>) {
  const writes: unknown[][] = [];
  const sent: string[] = [];
  let claims = [taken];
  const store = {
    look: () => Promise.resolve({ ready: claims.length > 0 ? [taken[0].queue] : [] }),
    claim: () => Promise.resolve(claims.shift() ?? []),
    delivered: (rows: ClaimedDelivery[]) => writes.push(['delivered', rows.map((r) => r.id)]),
    retryLater: (d: ClaimedDelivery) => writes.push(['retry', d.id]),
    dead: (d: ClaimedDelivery) => (writes.push(['dead', d.id]), Promise.resolve(true)),
    release: (rows: ClaimedDelivery[]) =>
      rows.length > 0 && writes.push(['release', rows.map((r) => r.id)]),
    renew: () => Promise.resolve(new Set<string>()),
  };
  const senders = new OutboxSenders();
  senders.register('relay', {
    send: (d) => (sent.push(d.id), Promise.resolve(outcomes[d.id])),
  });
  const settings = {
    outboxConcurrency: 4,
    outboxMaxAttempts: 50,
    outboxMaxAgeS: 3600,
    outboxMaxBackoffS: 1,
  };
  const worker = new OutboxWorker(
    { get: (key: keyof typeof settings) => settings[key] } as unknown as ConfigService<
      AppConfig,
      true
    >,
    store as unknown as OutboxStore,
    senders,
    { attempted: () => undefined, settled: () => undefined } as unknown as OutboxMetrics,
    { transaction: (work: (m: object) => unknown) => work({}) } as unknown as DataSource,
  );
  worker.wake();
  await new Promise((resolve) => setTimeout(resolve, 50));
  claims = [];
  await worker.onModuleDestroy();
  return { sent, writes };
}

describe('OutboxWorker, a queue taken with the deliveries behind its head', () => {
  const [a, b, c, d, e] = ['A', 'B', 'C', 'D', 'E'].map(delivery);
  const delivered: SendResult = { outcome: 'delivered' };

  it('sends them in order and writes the delivered ones together', async () => {
    const { sent, writes } = await run([a, b, c], { A: delivered, B: delivered, C: delivered });
    expect(sent).toEqual(['A', 'B', 'C']);
    expect(writes).toEqual([['delivered', ['A', 'B', 'C']]]);
  });

  it('goes on past one refused (dead), stops at one to retry, and gives back the rest untried', async () => {
    const { sent, writes } = await run([a, b, c, d, e], {
      A: delivered,
      B: { outcome: 'dead', error: 'HTTP 404' },
      C: delivered,
      D: { outcome: 'retry', error: 'HTTP 503' },
    });
    expect(sent).toEqual(['A', 'B', 'C', 'D']);
    expect(writes).toEqual([
      ['dead', 'B'],
      ['delivered', ['A', 'C']],
      ['release', ['E']],
      // Last: while its error is not written, the queue stays leased, and once it is, those
      // behind it are back untried.
      ['retry', 'D'],
    ]);
  });

  it('stops at one held (the operation unregistered) and gives it back with the rest', async () => {
    const { sent, writes } = await run([a, b, c], {
      A: delivered,
      B: { outcome: 'held', reason: 'not registered' },
    });
    expect(sent).toEqual(['A', 'B']);
    expect(writes).toEqual([
      ['delivered', ['A']],
      ['release', ['B', 'C']],
    ]);
  });
});

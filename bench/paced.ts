// A paced load generator, for latency at a given rate: `connections` keep-alive connections, each
// sending one request every `connections / rate` seconds, their start times spread evenly over
// that period, so that the server sees the rate as a steady stream. autocannon's `overallRate`
// does not pace: each connection sends its share of a second back to back at the start of the
// second, then waits, so "half the peak rate" was half a second at the peak and half idle, and
// its latencies those of the peak (50 connections in the server's queue at once).
//
// A request's latency runs from the moment it is sent (a timer that fires a little late is not the
// server's time). A connection still waiting for its answer when its next request is due sends
// that one as soon as the answer comes, and counts it as held back: a server that holds many back
// is not keeping up with the rate, and its latencies would flatter it (coordinated omission).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import { quantile } from './processes.js';

export interface PacedLoad {
  /** Answers per second over the run. */
  rps: number;
  /** Latency quantiles, ms. */
  p50: number;
  p99: number;
  /** Network errors and answers that are not 2xx. */
  errors: number;
  /** Requests sent a whole period or more after they were due: the server held them back. */
  heldBack: number;
  total: number;
  /** Every request's, ms, for quantiles over several runs together. */
  latencies: number[];
}

export interface PacedOptions {
  /** `http://host:port`. */
  origin: string;
  connections: number;
  /** Requests per second, all connections together. */
  rate: number;
  durationS: number;
  pick: () => { path: string; headers?: Record<string, string> };
}

export async function paced({
  origin,
  connections,
  rate,
  durationS,
  pick,
}: PacedOptions): Promise<PacedLoad> {
  const periodMs = (connections * 1000) / rate;
  const latencies: number[] = [];
  let errors = 0;
  let heldBack = 0;
  const clients = Array.from(
    { length: connections },
    () => new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000 }),
  );
  const start = performance.now() + 100;
  const end = start + durationS * 1000;
  const run = async (client: Client, index: number) => {
    for (let due = start + (periodMs * index) / connections; due < end; due += periodMs) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else if (-wait >= periodMs) heldBack += 1;
      const { path, headers } = pick();
      const sent = performance.now();
      try {
        const answer = await client.request({ method: 'GET', path, headers });
        await answer.body.dump();
        if (answer.statusCode < 200 || answer.statusCode > 299) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - sent);
    }
  };
  try {
    await Promise.all(clients.map(run));
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
  return {
    rps: latencies.length / durationS,
    ...latencyQuantiles(latencies),
    errors,
    heldBack,
    total: latencies.length,
    latencies,
  };
}

/** p50 and p99 of `latencies` (ms), to the tenth: of one run, or of several runs' together. */
export function latencyQuantiles(latencies: number[]): { p50: number; p99: number } {
  const tenths = (ms: number) => Math.round(ms * 10) / 10;
  return { p50: tenths(quantile(latencies, 0.5)), p99: tenths(quantile(latencies, 0.99)) };
}

// Imported by every server the bench spawns: answers the bench's 'stats' message (IPC) with what
// only the process itself knows, so that CPU per request is the server's own, not the machine's.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface ChildStats {
  /** process.cpuUsage(): user and system CPU, µs, since the process started. */
  cpuUs: number;
  /** Garbage collection: pauses, and their total in ms, since the process started. */
  gcCount: number;
  gcMs: number;
  /** Longest garbage collection pause, and longest event loop delay, since the last message. */
  gcMaxMs: number;
  loopMaxMs: number;
  heapMb: number;
}

let gcCount = 0;
let gcMs = 0;
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcCount += 1;
    gcMs += entry.duration;
    gcMaxMs = Math.max(gcMaxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

process.on('message', (message) => {
  if (message !== 'stats') return;
  const { user, system } = process.cpuUsage();
  const stats: ChildStats = {
    cpuUs: user + system,
    gcCount,
    gcMs,
    gcMaxMs,
    loopMaxMs: loop.max / 1e6,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
  };
  gcMaxMs = 0;
  loop.reset();
  process.send?.(stats);
});
// The IPC channel must not keep a server alive once it is told to stop.
process.channel?.unref();

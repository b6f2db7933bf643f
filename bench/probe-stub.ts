// Peers as the health prober sees them: node:http answering every GET of a versions URL with
// 200 and status_code 1000, at next to no cost, and counting the probes per group (the first
// segment of the path: one group per service under test) and per second of arrival
// (`GET /probes`), so that the bench knows the rate and the spread each service achieved.
import './child-stats.js';
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const body = JSON.stringify({
  status_code: 1000,
  data: [{ version: '2.1.1', url: `http://127.0.0.1:${port}/ocpi/2.1.1` }],
  timestamp: new Date().toISOString(),
});
/** Per group: probes in all, and by the second (Unix time) they arrived in. */
const groups = new Map<string, { total: number; per_second: Record<string, number> }>();

createServer((req, res) => {
  if (req.url === '/probes') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(groups)));
    return;
  }
  const group = /^\/([\w-]+)\/.*\/versions$/.exec(req.url ?? '')?.[1];
  if (req.method === 'GET' && group) {
    let counts = groups.get(group);
    if (!counts) groups.set(group, (counts = { total: 0, per_second: {} }));
    counts.total += 1;
    const second = String(Math.floor(Date.now() / 1000));
    counts.per_second[second] = (counts.per_second[second] ?? 0) + 1;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
    return;
  }
  res.writeHead(404).end();
}).listen(port, '127.0.0.1');

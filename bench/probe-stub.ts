// Peers as the health prober sees them: node:http answering every GET of a versions URL with
// 200 and status_code 1000, at next to no cost, and counting the probes per second of arrival
// (`GET /probes`), so that the bench knows the rate and the spread the service achieved.
import './child-stats.js';
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const body = JSON.stringify({
  status_code: 1000,
  data: [{ version: '2.1.1', url: `http://127.0.0.1:${port}/ocpi/2.1.1` }],
  timestamp: new Date().toISOString(),
});
/** Probes by the second (Unix time) they arrived in. */
const perSecond = new Map<number, number>();
let total = 0;

createServer((req, res) => {
  if (req.url === '/probes') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ total, per_second: Object.fromEntries(perSecond) }));
    return;
  }
  if (req.method === 'GET' && req.url?.endsWith('/versions')) {
    total += 1;
    const second = Math.floor(Date.now() / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
    return;
  }
  res.writeHead(404).end();
}).listen(port, '127.0.0.1');

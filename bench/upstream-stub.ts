// A peer's OCPI module as the gateway will see it: node:http answering every GET with a page of
// locations (about 2 kB of OCPI 2.1.1 envelope), paginated as OCPI says: a Link header to the
// next page, X-Total-Count and X-Limit. The bytes are built once per offset: the stub must cost
// next to nothing, so that what is measured in front of it is the proxy.
import './child-stats.js';
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const base = `http://127.0.0.1:${port}`;
const TOTAL = 1_000;
const LIMIT = 2;

function location(i: number): object {
  return {
    id: `LOC${i}`,
    type: 'ON_STREET',
    name: `Bench location ${i}`,
    address: '1 rue de la Paix',
    city: 'Paris',
    postal_code: '75002',
    country: 'FRA',
    coordinates: { latitude: '48.868680', longitude: '2.331440' },
    evses: [
      {
        uid: `EVSE${i}`,
        evse_id: `FR*AB1*E${i}`,
        status: 'AVAILABLE',
        capabilities: ['RFID_READER'],
        connectors: [
          {
            id: '1',
            standard: 'IEC_62196_T2',
            format: 'SOCKET',
            power_type: 'AC_3_PHASE',
            voltage: 400,
            amperage: 32,
            last_updated: '2026-12-01T00:00:00Z',
          },
        ],
        last_updated: '2026-12-01T00:00:00Z',
      },
    ],
    operator: { name: 'Bench CPO' },
    time_zone: 'Europe/Paris',
    last_updated: '2026-12-01T00:00:00Z',
  };
}

const pages = new Map<number, Buffer>();
function page(offset: number): Buffer {
  let body = pages.get(offset);
  if (!body) {
    const data = Array.from({ length: LIMIT }, (_, k) => location(offset + k));
    const envelope = { data, status_code: 1000, timestamp: '2026-12-01T00:00:00Z' };
    body = Buffer.from(JSON.stringify(envelope));
    pages.set(offset, body);
  }
  return body;
}

createServer((request, response) => {
  const url = new URL(request.url ?? '/', base);
  const offset = Math.min(Math.max(Number(url.searchParams.get('offset')) || 0, 0), TOTAL - LIMIT);
  const body = page(offset - (offset % LIMIT));
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': body.length,
    'X-Total-Count': TOTAL,
    'X-Limit': LIMIT,
  };
  if (offset + LIMIT < TOTAL) {
    headers.Link = `<${base}/ocpi/cpo/2.1.1/locations?offset=${offset + LIMIT}&limit=${LIMIT}>; rel="next"`;
  }
  response.writeHead(200, headers).end(body);
}).listen(port, '127.0.0.1', () => console.error(`upstream stub ready on ${port}`));
process.once('SIGTERM', () => process.exit(0));

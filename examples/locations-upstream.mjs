// The CPO's locations system behind the module gateway, for the README's rehearsal: plain Node,
// no dependencies. `node examples/locations-upstream.mjs [--port 4100]` (or UPSTREAM_PORT).
// It answers the gateway only: `Authorization: Bearer {GATEWAY_UPSTREAM_TOKEN}`, from that
// variable or from the file the service generated ({DATA_DIR or .data}/gateway-upstream-token).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string', default: process.env.UPSTREAM_PORT ?? '4100' } },
});
const tokenFile = join(process.env.DATA_DIR ?? '.data', 'gateway-upstream-token');
// Read per request when not given: the service may create the file after this starts.
const gatewayToken = () =>
  process.env.GATEWAY_UPSTREAM_TOKEN ?? readFileSync(tokenFile, 'utf8').trim();
const digest = (text) => createHash('sha256').update(text).digest();
const isGateway = (header = '') => {
  try {
    return timingSafeEqual(digest(header), digest(`Bearer ${gatewayToken()}`));
  } catch {
    return false; // no token to compare with yet
  }
};

const now = () => `${new Date().toISOString().slice(0, 19)}Z`;
const connector = { id: '1', standard: 'IEC_62196_T2', format: 'SOCKET', power_type: 'AC_3_PHASE' };
const location = ([id, name, city, latitude, longitude]) => ({
  id,
  type: 'ON_STREET',
  name,
  address: `1 rue ${name}`,
  city,
  postal_code: '75001',
  country: 'FRA',
  coordinates: { latitude, longitude },
  last_updated: now(),
  evses: [
    {
      uid: `${id}-E1`,
      status: 'AVAILABLE',
      last_updated: now(),
      connectors: [{ ...connector, voltage: 400, amperage: 32, last_updated: now() }],
    },
  ],
});
const locations = [
  ['LOC1', 'Lafayette', 'Paris', '48.873790', '2.332270'],
  ['LOC2', 'Bellecour', 'Lyon', '45.757814', '4.832011'],
  ['LOC3', 'Vieux-Port', 'Marseille', '43.295100', '5.374000'],
].map(location);
const PAGE_LIMIT = 2; // small, so that 3 locations take 2 pages

const server = createServer(async (req, res) => {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const url = new URL(req.url, `http://${req.headers.host ?? `127.0.0.1:${values.port}`}`);
  const send = (status, data, status_code = 1000, status_message = 'Success', headers = {}) => {
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ data, status_code, status_message, timestamp: now() }));
    const h = (name) => req.headers[name] ?? '-';
    console.log(
      `${req.method} ${req.url} operation=${h('x-ocpi-operation')} peer=${h('x-ocpi-peer')}` +
        ` request_id=${h('x-request-id')} correlation_id=${h('x-correlation-id')} -> ${status}`,
    );
  };
  if (!isGateway(req.headers.authorization)) return send(401, undefined, 2000, 'Not the gateway');
  let body;
  try {
    body = raw ? JSON.parse(raw) : undefined;
  } catch {
    return send(400, undefined, 2001, 'The body is not JSON');
  }
  const [module, ...path] = url.pathname.split('/').filter(Boolean);
  if (module === 'locations' && path.length === 0 && req.method === 'GET') {
    const offset = Math.max(0, Number(url.searchParams.get('offset')) || 0);
    const limit = Math.min(
      PAGE_LIMIT,
      Math.max(1, Number(url.searchParams.get('limit')) || PAGE_LIMIT),
    );
    const headers = { 'X-Total-Count': String(locations.length), 'X-Limit': String(PAGE_LIMIT) };
    if (offset + limit < locations.length) {
      headers.Link = `<${url.origin}/locations?offset=${offset + limit}&limit=${limit}>; rel="next"`;
    }
    return send(200, locations.slice(offset, offset + limit), 1000, 'Success', headers);
  }
  if (module === 'locations' && path.length === 3) {
    const index = locations.findIndex((l) => l.id === path[2]);
    if (req.method === 'GET')
      return index < 0
        ? send(404, undefined, 2003, 'Unknown location')
        : send(200, locations[index]);
    if (!body || typeof body !== 'object') return send(400, undefined, 2001, 'Expected a Location');
    if (req.method === 'PUT')
      locations.splice(index < 0 ? locations.length : index, 1, { ...body, id: path[2] });
    else if (req.method === 'PATCH' && index >= 0) Object.assign(locations[index], body);
    else
      return send(
        req.method === 'PATCH' ? 404 : 405,
        undefined,
        2000,
        'Unknown location or method',
      );
    return send(200, undefined);
  }
  // The hub's commands (START_SESSION…): accepted; the result goes later to `response_url`.
  if (module === 'commands' && path.length === 1 && req.method === 'POST') {
    console.log(`  ${path[0]}: the result goes to response_url ${body?.response_url}`);
    return send(200, { result: 'ACCEPTED' });
  }
  send(404, undefined, 2000, `Nothing at ${url.pathname}`);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(
    `Locations upstream on http://127.0.0.1:${values.port}/locations (gateway token: ${
      process.env.GATEWAY_UPSTREAM_TOKEN ? 'GATEWAY_UPSTREAM_TOKEN' : tokenFile
    })`,
  );
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => server.close(() => process.exit(0)));

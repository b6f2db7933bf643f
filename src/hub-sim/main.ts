// `npm run hub-sim [-- --port 4000]`: the hub simulator as a process of its own.
import { parseArgs } from 'node:util';
import { HubSimulator } from './hub-simulator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.HUB_SIM_PORT ?? '4000' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const hub = await new HubSimulator({ port: Number(values.port), host: values.host }).start();
console.log(
  [
    `Hub simulator (OCPI 2.1.1, GIREVE-like IOP) on ${hub.baseUrl}`,
    `  OCPI versions URL:   ${hub.versionsUrl}`,
    `  POST /sim/tokens                      a token A to register with (ToIOP)`,
    `  POST /sim/register   {versions_url, token}   the hub registers with an operation (FromIOP)`,
    `  POST /sim/unregister {versions_url}          the hub unregisters (DELETE)`,
    `  POST /sim/update     {versions_url}          GIREVE's update: DELETE, then POST with the same token`,
    `  PUT  /sim/faults     {"versions": "http500", "modules": "down", "delay_ms": 500, ...}   faults of its OCPI endpoints (README)`,
    `  PUT  /sim/party-faults {versions_url, refuse_token?, down?}   refuse one party's token (401), or be down for it`,
    `  GET  /sim/state                               the parties, with the endpoints they list`,
    `  eMSP modules for registered parties:  ${hub.baseUrl}/ocpi/emsp/2.1.1/{${hub.modules.join(',')}}/...`,
    `  GET  /sim/received   (DELETE to clear)        what parties sent to those modules`,
    `  POST /sim/pull    {versions_url, module, limit?}                a party's module, page after page (Link)`,
    `  POST /sim/send    {versions_url, module, method, path?, body?}  one call to a party's module`,
    `  POST /sim/command {versions_url, command, body?}                POST {commands}/{command}, result back to the hub`,
  ].join('\n'),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void hub.stop().then(() => process.exit(0)));
}

// The ceiling: node:http alone answering the JSON of GET versions.
import './child-stats.js';
import { createServer } from 'node:http';
import { versionsBody } from './versions-body.js';

const port = Number(process.env.PORT);
const publicUrl = `http://127.0.0.1:${port}`;
createServer((_request, response) => {
  response
    .writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(versionsBody(publicUrl)));
}).listen(port, '127.0.0.1', () => console.error(`bare http ready on ${port}`));
process.once('SIGTERM', () => process.exit(0));

// A loopback HTTP proxy that forwards to one upstream and counts requests by AWS operation (X-Amz-Target).
// GET /__counts returns the counts; POST /__reset zeroes them. Run in its own process so the benchmark's CPU
// figures hold only the client's work.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:5000');
const counts: Record<string, number> = {};

const server = createServer((req, res) => {
  if (req.url === '/__counts') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(counts));
  }
  if (req.url === '/__reset') {
    for (const key of Object.keys(counts)) delete counts[key];
    res.writeHead(204);
    return res.end();
  }
  const target = String(req.headers['x-amz-target'] ?? `${req.method} ${req.url}`);
  counts[target] = (counts[target] ?? 0) + 1;
  const forward = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: upstream.host },
    },
    (upstreamResponse) => {
      // moto answers `Connection: close`; DynamoDB keeps connections alive, so the client's connection stays open
      // (forwarding it made every DynamoDB call a new connection, on both sides of every comparison).
      const headers = { ...upstreamResponse.headers };
      delete headers.connection;
      delete headers['keep-alive'];
      res.writeHead(upstreamResponse.statusCode ?? 502, headers);
      upstreamResponse.pipe(res);
    },
  );
  forward.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(forward);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

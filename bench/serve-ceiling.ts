/**
 * The ceiling of any Node.js HTTP server on this machine under the same load: node:http reads the
 * whole request body and answers a canned KServe V2 response of the real one's size, parsing
 * nothing and running no model. Child of bench/serve.ts: prints its URL on stdout.
 * usage: node --import tsx bench/serve-ceiling.ts
 */
import http from 'node:http';

const probs = Array.from({ length: 10 }, (_, i) => (i === 3 ? 0.9135 : 0.0096));
const answer = JSON.stringify({
  model_name: 'mnist',
  model_version: '1',
  outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 10], data: probs }],
});
const server = http.createServer({ noDelay: true }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

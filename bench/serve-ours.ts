/** Tessera's server on a model repository, as a child of bench/serve.ts: prints its URL on stdout. */
import { waitForSignal } from '../src/cli/serve.js';
import { startServer } from '../src/serve/server.js';

const server = await startServer({ modelRepository: process.argv[2] as string, port: 0, log: false });
process.stdout.write(`${server.url}\n`);
process.exit(await waitForSignal(server));

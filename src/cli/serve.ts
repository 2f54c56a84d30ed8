/**
 * `tessera serve`: the model server on a model repository. SIGTERM / SIGINT stop accepting,
 * drain in-flight requests, then exit.
 */
import { hashApiKey } from '../serve/auth.js';
import { type ModelServer, startServer } from '../serve/server.js';
import type { ModelConfig } from '../serve/types.js';
import { intFlag, parseFlags, registerCommand, UsageError } from './command.js';

const HELP = `usage: tessera serve --model-repository DIR [--port 8000] [--host 127.0.0.1] [options]

Serves every model of DIR (layout DIR/<name>/<version>/ saved with saveModel, plus optional
DIR/<name>/config.json) over KServe V2 REST (/v2/...) and TF Serving REST (/v1/...).

options:
  --model-repository DIR   the model repository (required)
  --port N                 port (default 8000; 0 picks a free one)
  --host HOST              interface (default 127.0.0.1; others need --api-keys or --allow-unauthenticated)
  --api-keys FILE          keys.json: { "keys": [{ "name", "sha256", "scopes": ["infer"|"admin"|"metrics"], "rateLimit": { "perSecond" } }] }
  --allow-unauthenticated  allow a non-loopback host without API keys
  --max-batch-size N       override every config.json's maxBatchSize (0 disables batching)
  --max-queue-delay-ms N   override maxQueueDelayMs
  --instances N            override instanceCount (worker threads per version)
  --max-body-bytes N       request body limit (default 67108864)
  --access-log             log every request (JSON lines on stderr)
  --hash-key KEY           print the sha256 of KEY for keys.json and exit

Endpoints: GET /docs (OpenAPI), GET /metrics (Prometheus), GET /v2/health/ready.`;

/** Run the server until SIGTERM / SIGINT; resolves with the exit code after the drain. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('serve', args, {
    'model-repository': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'api-keys': { type: 'string' },
    'allow-unauthenticated': { type: 'boolean' },
    'max-batch-size': { type: 'string' },
    'max-queue-delay-ms': { type: 'string' },
    instances: { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'access-log': { type: 'boolean' },
    'hash-key': { type: 'string' },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (typeof values['hash-key'] === 'string') {
    console.log(hashApiKey(values['hash-key']));
    return 0;
  }
  const repo = values['model-repository'];
  if (typeof repo !== 'string') throw new UsageError('tessera serve: --model-repository DIR is required');
  const nonNeg = (name: string): number | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isInteger(n) || n < 0) {
      throw new UsageError(`tessera serve: --${name} expects a non-negative integer, got '${String(v)}'`);
    }
    return n;
  };
  const overrides: Partial<ModelConfig> = {};
  const mbs = nonNeg('max-batch-size');
  if (mbs !== undefined) overrides.maxBatchSize = mbs;
  const delay = nonNeg('max-queue-delay-ms');
  if (delay !== undefined) overrides.maxQueueDelayMs = delay;
  if (values.instances !== undefined) overrides.instanceCount = intFlag('serve', 'instances', values.instances, 1);
  const server = await startServer({
    modelRepository: repo,
    port: nonNeg('port') ?? 8000,
    host: typeof values.host === 'string' ? values.host : '127.0.0.1',
    apiKeys: typeof values['api-keys'] === 'string' ? values['api-keys'] : undefined,
    allowUnauthenticated: values['allow-unauthenticated'] === true,
    maxBodyBytes:
      values['max-body-bytes'] !== undefined
        ? intFlag('serve', 'max-body-bytes', values['max-body-bytes'], 1)
        : undefined,
    accessLog: values['access-log'] === true,
    configOverrides: overrides,
  });
  return waitForSignal(server);
}

/** Resolve with 0 once SIGTERM or SIGINT has drained the server. */
export function waitForSignal(server: ModelServer): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'signal', signal })}\n`,
      );
      server.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

registerCommand({
  name: 'serve',
  summary: 'serve a model repository over HTTP (KServe V2, TF Serving)',
  help: HELP,
  run: serveCommand,
});

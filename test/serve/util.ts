/** HTTP and temp-folder helpers of the server tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Temp folders of this test process, removed when it exits. */
const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new temp folder (a model repository, a config folder), removed at the process's exit. */
export function tempRepo(prefix = 'tessera-serve-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies
  json: () => any;
}

/** fetch and read the whole body. */
export async function call(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Reply> {
  const { json, ...rest } = init;
  const r = await fetch(url, {
    ...rest,
    method: rest.method ?? (json !== undefined || rest.body !== undefined ? 'POST' : 'GET'),
    body: json !== undefined ? JSON.stringify(json) : rest.body,
    headers: { ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(rest.headers as object) },
  });
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body, json: () => JSON.parse(body.toString('utf8')) };
}

export const SILENT = { log: false as const };

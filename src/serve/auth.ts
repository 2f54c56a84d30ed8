/**
 * API keys: a keys file stores only SHA-256 hashes, each with scopes (`infer`, `admin`,
 * `metrics`) and an optional rate limit (token bucket). Keys come in `Authorization: Bearer <key>`
 * or `X-API-Key: <key>`.
 *
 * keys.json:
 * ```json
 * { "keys": [{ "name": "ci", "sha256": "<hex of sha256(key)>", "scopes": ["infer"], "rateLimit": { "perSecond": 100, "burst": 200 } }] }
 * ```
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ValueError } from '../tensor/errors.js';
import { HttpError } from './errors.js';

export type Scope = 'infer' | 'admin' | 'metrics';
const SCOPES: readonly Scope[] = ['infer', 'admin', 'metrics'];

export interface ApiKeyEntry {
  name: string;
  sha256: string;
  scopes: Scope[];
  rateLimit?: { perSecond: number; burst?: number };
}

/**
 * The hex SHA-256 of a key, the form stored in keys.json.
 * @example hashApiKey('s3cret') // '...64 hex digits...'
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

interface Bucket {
  tokens: number;
  last: number;
}

export class ApiKeys {
  private readonly byHash = new Map<string, ApiKeyEntry>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(entries: ApiKeyEntry[]) {
    for (const [i, e] of entries.entries()) {
      const where = `api key ${i} (${JSON.stringify(e?.name)})`;
      if (typeof e?.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(e.sha256)) {
        throw new ValueError(`${where}: 'sha256' expected 64 hex digits, got ${JSON.stringify(e?.sha256)}`);
      }
      if (!Array.isArray(e.scopes) || e.scopes.some((s) => !SCOPES.includes(s))) {
        throw new ValueError(
          `${where}: 'scopes' expected an array of ${SCOPES.join(' | ')}, got ${JSON.stringify(e.scopes)}`,
        );
      }
      if (e.rateLimit !== undefined && !(typeof e.rateLimit.perSecond === 'number' && e.rateLimit.perSecond > 0)) {
        throw new ValueError(
          `${where}: 'rateLimit.perSecond' expected a positive number, got ${JSON.stringify(e.rateLimit)}`,
        );
      }
      this.byHash.set(e.sha256.toLowerCase(), e);
    }
  }

  /** Read a keys file (`{ "keys": [...] }` or a bare array). */
  static fromFile(path: string): ApiKeys {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new ValueError(`--api-keys ${path}: ${(e as Error).message}`);
    }
    const list = Array.isArray(raw) ? raw : (raw as { keys?: unknown })?.keys;
    if (!Array.isArray(list)) throw new ValueError(`--api-keys ${path}: expected { "keys": [...] }, got ${typeof raw}`);
    return new ApiKeys(list as ApiKeyEntry[]);
  }

  /**
   * Check a request's key against a scope: 401 for no key or an unknown one, 403 for a key
   * without the scope, 429 (Retry-After) past the key's rate limit.
   */
  check(headers: Record<string, string | string[] | undefined>, scope: Scope): ApiKeyEntry {
    let key = headers['x-api-key'];
    if (typeof key !== 'string') {
      const auth = headers.authorization;
      if (typeof auth === 'string' && auth.startsWith('Bearer ')) key = auth.slice(7).trim();
    }
    if (typeof key !== 'string' || key.length === 0) {
      throw new HttpError(401, 'missing API key: send Authorization: Bearer <key> or X-API-Key', 'unauthenticated', {
        'WWW-Authenticate': 'Bearer',
      });
    }
    const entry = this.byHash.get(hashApiKey(key));
    if (!entry) throw new HttpError(401, 'invalid API key', 'unauthenticated', { 'WWW-Authenticate': 'Bearer' });
    if (!entry.scopes.includes(scope) && !(scope !== 'admin' && entry.scopes.includes('admin'))) {
      throw new HttpError(
        403,
        `API key '${entry.name}' lacks scope '${scope}' (has ${entry.scopes.join(', ') || 'none'})`,
      );
    }
    if (entry.rateLimit) this.take(entry);
    return entry;
  }

  private take(entry: ApiKeyEntry): void {
    const { perSecond, burst = perSecond } = entry.rateLimit!;
    const now = performance.now();
    let b = this.buckets.get(entry.sha256);
    if (!b) {
      b = { tokens: burst, last: now };
      this.buckets.set(entry.sha256, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.last) / 1000) * perSecond);
    b.last = now;
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
      throw new HttpError(
        429,
        `API key '${entry.name}' is over its rate limit of ${perSecond} requests/s`,
        'rate_limited',
        {
          'Retry-After': String(wait),
        },
      );
    }
    b.tokens -= 1;
  }
}

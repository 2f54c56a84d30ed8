/**
 * The model repository: `<root>/<name>/<version>/` saved models plus optional
 * `<root>/<name>/config.json`. Loads versions by policy, swaps versions without failing a
 * request (the new one goes live once warmed up; the old one drains before it stops), and
 * resolves a request's model / version / label.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '../tensor/errors.js';
import { HttpError, notFound, unavailable } from './errors.js';
import type { Metrics } from './metrics.js';
import { DEFAULT_RUNNER_MODULE, ModelVersion } from './model-version.js';
import { DEFAULT_MODEL_CONFIG, type ModelConfig, type VersionPolicy } from './types.js';

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Model names: letters, digits, `_ . -`, not starting with a dot (so no path traversal). */
export function isValidModelName(name: string): boolean {
  return NAME_RE.test(name) && !name.includes('..');
}

/** Read and validate `config.json` (missing file: defaults). Throws ValueError naming the field. */
export function readModelConfig(dir: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const file = join(dir, 'config.json');
  const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, labels: {}, ...overrides };
  if (!existsSync(file)) return config;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ValueError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  const num = (key: keyof ModelConfig, min: number) => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new ValueError(`${file}: '${key}' expected a number >= ${min}, got ${JSON.stringify(v)}`);
    }
    (config as unknown as Record<string, unknown>)[key] = v;
  };
  num('maxBatchSize', 0);
  num('maxQueueDelayMs', 0);
  num('maxQueueSize', 1);
  num('timeoutMs', 1);
  num('instanceCount', 1);
  if (raw.convolution !== undefined) {
    if (raw.convolution !== 'winograd' && raw.convolution !== 'direct') {
      throw new ValueError(
        `${file}: 'convolution' expected "winograd" or "direct", got ${JSON.stringify(raw.convolution)}`,
      );
    }
    config.convolution = raw.convolution;
  }
  if (raw.inlineWhenIdle !== undefined) {
    if (typeof raw.inlineWhenIdle !== 'boolean') {
      throw new ValueError(
        `${file}: 'inlineWhenIdle' expected true or false, got ${JSON.stringify(raw.inlineWhenIdle)}`,
      );
    }
    config.inlineWhenIdle = raw.inlineWhenIdle;
  }
  if (raw.classLabels !== undefined) {
    const v = raw.classLabels as Record<string, unknown>;
    if (
      typeof v !== 'object' ||
      v === null ||
      Array.isArray(v) ||
      Object.values(v).some((l) => !Array.isArray(l) || l.some((s) => typeof s !== 'string'))
    ) {
      throw new ValueError(
        `${file}: 'classLabels' expected an object of output name -> array of label strings, got ${JSON.stringify(v)}`,
      );
    }
    config.classLabels = v as Record<string, string[]>;
  }
  if (raw.versionPolicy !== undefined) config.versionPolicy = parsePolicy(raw.versionPolicy, file);
  if (raw.labels !== undefined) {
    const labels = raw.labels as Record<string, unknown>;
    if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => !Number.isInteger(v))) {
      throw new ValueError(
        `${file}: 'labels' expected an object of label -> version number, got ${JSON.stringify(labels)}`,
      );
    }
    config.labels = labels as Record<string, number>;
  }
  for (const key of ['inputNames', 'outputNames'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      throw new ValueError(`${file}: '${key}' expected an array of strings, got ${JSON.stringify(v)}`);
    }
    config[key] = v as string[];
  }
  return config;
}

function parsePolicy(v: unknown, file: string): VersionPolicy {
  const p = v as Record<string, unknown>;
  if (p && typeof p === 'object') {
    if (p.all === true) return { all: true };
    if (Number.isInteger(p.latest) && (p.latest as number) >= 1) return { latest: p.latest as number };
    if (Array.isArray(p.specific) && p.specific.every((x) => Number.isInteger(x)))
      return { specific: p.specific as number[] };
  }
  throw new ValueError(
    `${file}: 'versionPolicy' expected { "latest": N } | { "all": true } | { "specific": [versions] }, got ${JSON.stringify(v)}`,
  );
}

/** Version folders (positive integer names) of a model directory, ascending. */
export function listVersions(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^[1-9][0-9]{0,17}$/.test(n) && statSync(join(dir, n)).isDirectory())
    .map(Number)
    .sort((a, b) => a - b);
}

function select(versions: number[], policy: VersionPolicy): number[] {
  if ('all' in policy) return versions;
  if ('specific' in policy) return versions.filter((v) => policy.specific.includes(v));
  return versions.slice(-policy.latest);
}

export interface ModelEntry {
  name: string;
  config: ModelConfig;
  versions: Map<number, ModelVersion>;
  /** Set when the last load failed. */
  error?: string;
}

export interface RepositoryOptions {
  /** Module exporting `createRunner(dir)` (default: src/serve/runner, which loads saved Tessera models). */
  runnerModule?: string;
  /** Overrides applied under every config.json (e.g. from CLI flags). */
  configOverrides?: Partial<ModelConfig>;
  /** Native thread-pool size of the model workers (default: see ServerOptions.nativeThreads). */
  nativeThreads?: number;
}

export class ModelRepository {
  readonly models = new Map<string, ModelEntry>();
  private readonly runnerModule: string;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly root: string,
    private readonly metrics: Metrics,
    private readonly options: RepositoryOptions = {},
  ) {
    this.runnerModule = options.runnerModule ?? DEFAULT_RUNNER_MODULE;
  }

  /** Names of the model folders in the repository. */
  scan(): string[] {
    if (!existsSync(this.root)) throw new ValueError(`model repository '${this.root}' does not exist`);
    return readdirSync(this.root)
      .filter((n) => isValidModelName(n) && statSync(join(this.root, n)).isDirectory())
      .sort();
  }

  /** Load every model of the repository; failures are recorded per model, not thrown. */
  async loadAll(): Promise<void> {
    await Promise.all(this.scan().map((n) => this.load(n).catch(() => {})));
  }

  /** Serialise loads / unloads of one model. */
  private exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(
      name,
      next.catch(() => {}),
    );
    return next;
  }

  /**
   * (Re)load a model: re-read config.json and the version folders; new versions in the policy
   * load and warm up, then go live; versions leaving the policy drain, then stop.
   */
  load(name: string): Promise<ModelEntry> {
    if (!isValidModelName(name))
      return Promise.reject(new HttpError(400, `invalid model name ${JSON.stringify(name)}`));
    return this.exclusive(name, async () => {
      const dir = join(this.root, name);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw notFound(`model '${name}' is not in the repository`);
      let entry = this.models.get(name);
      let config: ModelConfig;
      try {
        config = readModelConfig(dir, this.options.configOverrides);
      } catch (e) {
        if (entry) entry.error = (e as Error).message;
        throw new HttpError(400, (e as Error).message);
      }
      const wanted = select(listVersions(dir), config.versionPolicy);
      if (wanted.length === 0)
        throw new HttpError(400, `model '${name}' has no version folder matching its version policy in ${dir}`);
      if (!entry) {
        entry = { name, config, versions: new Map() };
        this.models.set(name, entry);
      }
      const configChanged = JSON.stringify(entry.config) !== JSON.stringify(config);
      entry.config = config;
      const old = [...entry.versions.values()];
      const fresh: ModelVersion[] = [];
      for (const v of wanted) {
        const cur = entry.versions.get(v);
        if (cur && cur.state === 'ready' && !configChanged) continue;
        fresh.push(
          new ModelVersion(
            name,
            v,
            join(dir, String(v)),
            config,
            this.metrics.of(name, String(v)),
            this.runnerModule,
            this.options.nativeThreads,
          ),
        );
      }
      const results = await Promise.allSettled(fresh.map((mv) => mv.load()));
      const errors: string[] = [];
      results.forEach((r, i) => {
        const mv = fresh[i] as ModelVersion;
        if (r.status === 'fulfilled') {
          const prev = entry.versions.get(mv.version);
          entry.versions.set(mv.version, mv);
          if (prev && prev !== mv) void prev.drain();
        } else errors.push(`version ${mv.version}: ${(r.reason as Error).message}`);
      });
      // Versions no longer wanted: out of routing now, drained in the background.
      for (const mv of old) {
        if (!wanted.includes(mv.version) && entry.versions.get(mv.version) === mv) {
          entry.versions.delete(mv.version);
          void mv.drain();
        }
      }
      entry.error = errors.length ? errors.join('; ') : undefined;
      if (errors.length) throw new HttpError(500, `loading model '${name}' failed: ${entry.error}`, 'load');
      return entry;
    });
  }

  /** Unload every version of a model (they drain first). */
  unload(name: string): Promise<void> {
    if (!isValidModelName(name))
      return Promise.reject(new HttpError(400, `invalid model name ${JSON.stringify(name)}`));
    return this.exclusive(name, async () => {
      const entry = this.models.get(name);
      if (!entry) throw notFound(`model '${name}' is not loaded`);
      this.models.delete(name);
      await Promise.all([...entry.versions.values()].map((v) => v.drain()));
    });
  }

  /** Everything in the repository with its state (POST /v2/repository/index). */
  index(): { name: string; version?: string; state: string; reason?: string }[] {
    const out: { name: string; version?: string; state: string; reason?: string }[] = [];
    for (const name of this.scan()) {
      const entry = this.models.get(name);
      if (!entry || entry.versions.size === 0) {
        out.push({
          name,
          state: entry?.error ? 'UNAVAILABLE' : 'UNLOADED',
          ...(entry?.error ? { reason: entry.error } : {}),
        });
        continue;
      }
      for (const v of entry.versions.values()) {
        out.push({
          name,
          version: String(v.version),
          state: v.state === 'ready' ? 'READY' : v.state.toUpperCase(),
          ...(v.reason ? { reason: v.reason } : {}),
        });
      }
    }
    return out;
  }

  /**
   * The version a request goes to: the given version, a label's version, or the newest ready one.
   * 404 for an unknown model / version / label, 503 when it exists but is not ready.
   */
  resolve(name: string, version?: string, label?: string): ModelVersion {
    const entry = this.models.get(name);
    if (!entry) throw notFound(`unknown model '${name}'`);
    if (label !== undefined) {
      const v = entry.config.labels[label];
      if (v === undefined) {
        const known = Object.keys(entry.config.labels);
        throw notFound(
          `unknown label '${label}' of model '${name}'; labels: ${known.length ? known.join(', ') : 'none'}`,
        );
      }
      version = String(v);
    }
    if (version !== undefined) {
      const mv = /^[0-9]{1,18}$/.test(version) ? entry.versions.get(Number(version)) : undefined;
      if (!mv) {
        const have = [...entry.versions.keys()].join(', ') || 'none';
        throw notFound(`unknown version '${version}' of model '${name}'; loaded versions: ${have}`);
      }
      if (mv.state !== 'ready') throw unavailable(`model '${name}' version ${version} is not ready (${mv.state})`);
      return mv;
    }
    let best: ModelVersion | undefined;
    for (const mv of entry.versions.values())
      if (mv.state === 'ready' && (!best || mv.version > best.version)) best = mv;
    if (!best) throw unavailable(`model '${name}' has no ready version`);
    return best;
  }

  /** True when every model folder has a ready version. */
  ready(): boolean {
    for (const entry of this.models.values()) {
      if (![...entry.versions.values()].some((v) => v.state === 'ready')) return false;
    }
    return this.models.size > 0;
  }

  async close(): Promise<void> {
    const all = [...this.models.values()].flatMap((e) => [...e.versions.values()]);
    this.models.clear();
    await Promise.all(all.map((v) => v.drain()));
  }
}

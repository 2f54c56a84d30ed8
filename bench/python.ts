/**
 * The Python peers' interpreter: the first python3 that imports the given modules, trying
 * TESSERA_BENCH_PYTHON, then each python3 on PATH, then Debian's system one (where python3-torch
 * and python3-numpy install, and which another python3 first on PATH can hide). Memoised.
 */
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';

const found = new Map<string, string | null>();

/** The interpreter path, or null when none imports `modules` (e.g. 'torch', 'numpy, torch'). */
export function peerPython(modules: string): string | null {
  const hit = found.get(modules);
  if (hit !== undefined) return hit;
  const candidates: string[] = [];
  if (process.env.TESSERA_BENCH_PYTHON) candidates.push(process.env.TESSERA_BENCH_PYTHON);
  const which = spawnSync('which', ['-a', 'python3'], { encoding: 'utf8' });
  if (which.status === 0) candidates.push(...which.stdout.split('\n').filter((l) => l.trim() !== ''));
  candidates.push('/usr/bin/python3');
  const seen = new Set<string>();
  let result: string | null = null;
  for (const c of candidates) {
    let key: string;
    try {
      key = realpathSync(c);
    } catch {
      continue; // not there
    }
    if (seen.has(key)) continue;
    seen.add(key);
    const r = spawnSync(c, ['-c', `import ${modules}`], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) {
      result = c;
      break;
    }
  }
  found.set(modules, result);
  return result;
}

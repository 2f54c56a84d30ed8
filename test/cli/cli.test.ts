import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { layers, saveModel, sequential, setSeed } from 'tessera';
import { commands, main, registerCommand } from '../../src/cli/main.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;

/** Run the CLI in-process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('--help lists every command; --version prints the package version', async () => {
  const h = await cli('--help');
  assert.equal(h.code, 0);
  for (const name of ['demo', 'train', 'summary', 'evaluate']) assert.match(h.out, new RegExp(`^  ${name} `, 'm'));
  const v = await cli('--version');
  assert.equal(v.code, 0);
  assert.equal(v.out.trim(), version);
  const sub = await cli('help', 'evaluate');
  assert.match(sub.out, /^Usage: tessera evaluate <modelDir>/);
  assert.match((await cli('summary', '--help')).out, /^Usage: tessera summary <modelDir>/);
});

test('unknown commands and flags are usage errors with exit code 2', async () => {
  const a = await cli('frobnicate');
  assert.equal(a.code, 2);
  assert.match(a.err, /unknown command 'frobnicate'; commands: demo, train, summary, evaluate/);
  const b = await cli('--frob');
  assert.equal(b.code, 2);
  assert.match(b.err, /unknown option '--frob'/);
  const c = await cli('summary', '--bogus', 'x');
  assert.equal(c.code, 2);
  assert.match(c.err, /summary: Unknown option '--bogus'/);
  const d = await cli('demo', '--epochs', 'zero');
  assert.equal(d.code, 2);
  assert.match(d.err, /--epochs expects a positive integer, got 'zero'/);
  const e = await cli('summary');
  assert.equal(e.code, 2);
  assert.match(e.err, /expects one model folder, got 0 arguments/);
});

test('registerCommand adds a subcommand (how `serve` plugs in)', async () => {
  registerCommand({
    name: 'echo-test',
    summary: 'test only',
    help: 'Usage: tessera echo-test',
    run: async (args) => args.length,
  });
  try {
    assert.equal((await cli('echo-test', 'a', 'b', 'c')).code, 3);
    assert.match((await cli('--help')).out, /echo-test {2}test only/);
  } finally {
    commands.delete('echo-test');
  }
});

test('summary and evaluate of a saved model', async () => {
  setSeed(9);
  const m = sequential([
    layers.dense({ units: 16, activation: 'relu', inputShape: [100] }),
    layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const dir = join(root, 'small', '1');
  await saveModel(m, dir);
  const s = await cli('summary', dir);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /Total params: 1,786/);
  assert.match(s.out, /\(Dense\)/);
  assert.match(s.out, /Input {2}\S+: float32 \[None, 100\]/);
  assert.match(s.out, /Output \S+: float32 \[None, 10\]/);
  assert.match(
    s.out,
    /Training: optimizer Adam \(learningRate 0\.001\), loss sparse_?categorical_?crossentropy, metrics \["accuracy"\]/i,
  );
  const e = await cli('evaluate', dir, '--data', 'mnist');
  assert.equal(e.code, 0, e.err);
  const acc = Number(/accuracy: ([0-9.]+)/.exec(e.out)?.[1]);
  assert.match(e.out, /on mnist test \(2000 samples/);
  assert.ok(acc >= 0 && acc < 0.5, `an untrained model is near chance, got ${acc}`);
  const missing = await cli('summary', join(root, 'nope'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /ModelIOError: .*nope' does not exist/);
  const bad = await cli('evaluate', dir, '--data', 'cifar');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown --data 'cifar', expected 'mnist'/);
});

test('bin/tessera.js: real process exit codes; train runs a TypeScript script with top-level await', () => {
  const env = { ...process.env, TESSERA_CLI_SOURCE: '1' };
  const unknown = spawnSync(process.execPath, ['bin/tessera.js', 'nope'], { encoding: 'utf8', env });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command 'nope'/);
  const dir = mkdtempSync(join(root, 'script-'));
  const script = join(dir, 'job.ts');
  writeFileSync(
    script,
    [
      "import { tensor } from 'tessera';",
      'const t: ReturnType<typeof tensor> = tensor([1, 2, 3]);',
      'await new Promise((r) => setTimeout(r, 1));',
      "console.log('shape', JSON.stringify(t.shape), process.argv.slice(2).join(','));",
      'process.exitCode = 7;',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, ['bin/tessera.js', 'train', script, 'x', 'y'], { encoding: 'utf8', env });
  assert.equal(r.stdout.trim(), 'shape [3] x,y', r.stderr);
  assert.equal(r.status, 7);
});

// V8 heap settings for the commands that run a model server (`tessera serve`, `tessera demo`).
//
// With V8's defaults the HTTP thread's old generation starts tiny: serving the seed CNN at 64
// clients, it ran a full mark-compact every ~250 ms (about 25 per 6 s) although only ~8 MB stayed
// live, and the GC helper threads took ~20 us of CPU per request. Starting the old generation at
// 256 MB removes those collections (0-1 in 40 s, old space steady at ~11 MB); a 16-32 MB young
// generation halves the scavenges (160 -> 72 per 6 s), since a request's objects die within
// milliseconds. Measured in 3 interleaved pairs: 4-18% more requests/s and p99 18-20 ms -> 9-12 ms.
// The heap grows to these sizes only as garbage accumulates; they are limits, not reservations.
// The fastify + onnxruntime-node peer of bench:serve gained nothing from them (4 interleaved pairs).

/** Node options `tessera serve` runs with. */
export const SERVE_NODE_FLAGS = ['--initial-heap-size=256', '--min-semi-space-size=16', '--max-semi-space-size=32'];

/** The CLI commands that start a model server. */
const SERVING_COMMANDS = new Set(['serve', 'demo']);

/**
 * The flags to re-execute a CLI invocation with: SERVE_NODE_FLAGS for a serving command, minus any
 * the user already set (in execArgv or NODE_OPTIONS, whose value then wins); none when
 * TESSERA_NODE_FLAGS=0.
 * @param {string[]} args the CLI arguments (command first)
 * @param {string[]} execArgv the running node's own options
 * @param {Record<string, string | undefined>} env
 * @returns {string[]}
 */
export function serveNodeFlags(args, execArgv, env) {
  if (env.TESSERA_NODE_FLAGS === '0' || !SERVING_COMMANDS.has(args[0] ?? '')) return [];
  // A flag's name without its value; V8 spells these with dashes or underscores.
  const name = (flag) => flag.split('=')[0].replaceAll('_', '-');
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(name));
  return SERVE_NODE_FLAGS.filter((f) => !given.has(name(f)));
}

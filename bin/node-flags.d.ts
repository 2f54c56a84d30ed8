/** Node options `tessera serve` runs with (see node-flags.js). */
export const SERVE_NODE_FLAGS: string[];
/** The flags to re-execute a CLI invocation with (see node-flags.js). */
export function serveNodeFlags(args: string[], execArgv: string[], env: Record<string, string | undefined>): string[];

/** Registers `tessera serve` with the CLI (src/cli/main.ts imports this module when it exists). */
import '../cli/serve.js';

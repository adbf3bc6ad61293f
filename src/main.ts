// `npm start`: exactly `scope-auth serve` (src/cli/commands/serve.ts), so both start the
// server, print the first-start block and drain on SIGTERM/SIGINT through one code path.
import { main } from './cli/index.js';

await main(process, ['serve']);

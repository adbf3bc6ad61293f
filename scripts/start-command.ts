// What `npm start` runs, read from package.json: the Node options the server is meant to run
// with (they bound its memory; see docs/internals.md, "Performance") and its entry script. The benchmark
// and the end-to-end test start the server with exactly these options.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StartCommand {
  /** Options for node itself, e.g. `--max-old-space-size=128`. */
  readonly nodeOptions: readonly string[];
  /** The entry script, relative to the package root. */
  readonly script: string;
}

export function startCommand(root: string): StartCommand {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const words = (pkg.scripts?.start ?? '').trim().split(/\s+/);
  const [node, ...rest] = words;
  const script = rest.pop();
  if (node !== 'node' || script === undefined || !rest.every((word) => word.startsWith('--'))) {
    throw new Error(`package.json "start" must be "node [--options] <script>", not "${words.join(' ')}"`);
  }
  return { nodeOptions: rest, script };
}

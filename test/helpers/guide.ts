// The shell blocks of a Markdown guide, so that a test runs what the guide tells a reader to
// run. Each ```sh block is marked by the HTML comment on the line before it:
//   <!-- test: run NAME -->          a test runs it by that name (runGuideBlock)
//   <!-- test: not run: REASON -->   why no test can (it needs systemd as PID 1, a daemon, …)
// The test swaps the guide's paths, host names and ports for its own; a swap whose text is
// not in the block fails, so a guide edited apart from its test is noticed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface GuideBlock {
  /** Set for `test: run NAME` blocks. */
  readonly name: string | null;
  /** Set for `test: not run: REASON` blocks. */
  readonly reason: string | null;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

export function guideBlocks(path: string): GuideBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: GuideBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    if (end === -1) throw new Error(`${path}:${i + 1}: a shell block is not closed`);
    const marker = /^<!-- test: (?:run ([a-z0-9-]+)|not run: (.+)) -->$/.exec(lines[i - 1] ?? '');
    blocks.push({ name: marker?.[1] ?? null, reason: marker?.[2] ?? null, code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

export interface BlockRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Pairs [as the guide writes it, as the test needs it]; every one must occur in the block. */
  readonly swaps: readonly (readonly [string, string])[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
}

/** The block with the swaps made. */
export function swapped(block: GuideBlock, swaps: RunOptions['swaps']): string {
  let code = block.code;
  for (const [from, to] of swaps) {
    if (!code.includes(from)) throw new Error(`the guide's block "${block.name}" (line ${block.line}) no longer contains ${JSON.stringify(from)}`);
    code = code.split(from).join(to);
  }
  return code;
}

/** Runs the block named `name` with bash (-e, -u, pipefail), as a reader pasting it would, but stopping at the first failure. */
export function runGuideBlock(blocks: readonly GuideBlock[], name: string, options: RunOptions): Promise<BlockRun> {
  const block = blocks.find((candidate) => candidate.name === name);
  if (block === undefined) throw new Error(`the guide has no block "test: run ${name}"`);
  return runCommand(['bash', '-euo', 'pipefail', '-c', swapped(block, options.swaps)], options);
}

/** Runs `argv` to its end (killed after `timeoutMs`), with what it printed. */
export function runCommand(argv: readonly string[], options: { cwd?: string; env: Record<string, string>; timeoutMs: number }): Promise<BlockRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What a failed block printed, for the assertion's message. */
export function described(name: string, run: BlockRun): string {
  return `block "${name}" exited ${run.code}\nstdout:\n${run.stdout.slice(-4000)}\nstderr:\n${run.stderr.slice(-4000)}`;
}

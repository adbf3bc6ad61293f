// A real server process as `npm start` runs it (src/main.ts, with the start script's Node
// options), in a working directory and environment of the test's choosing: its output kept
// (and copied for the log scan), ready once /readyz answers 200, stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCommand } from '../../scripts/start-command.js';
import { ROOT } from './cli.js';
import { captureServerOutput } from './test-logger.js';

const MAIN = join(ROOT, 'src/main.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const READY_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  readonly output: () => string;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/** Only PATH and `env` in its environment. */
export function spawnServer(cwd: string, env: Record<string, string>, label: string): ServerProcess {
  const child = spawn(process.execPath, [...startCommand(ROOT).nodeOptions, '--import', TSX, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  captureServerOutput(child.stdout!, label);
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until `url`/readyz answers 200; throws, with the output, when the process exits first or after 30 s. */
export async function waitReady(server: ServerProcess, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`the server exited before it was ready:\n${server.output()}`);
    const ready = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server was not ready within ${READY_TIMEOUT_MS} ms:\n${server.output()}`);
}

/** SIGKILL by PID when it still runs, and waits for it to end. */
export async function killServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  process.kill(server.child.pid!, 'SIGKILL');
  await server.exited;
}

// What the files of deploy/ say to run, read from them, so that the tests run exactly that:
// the systemd unit's command, environment and credentials; the Dockerfile's CMD,
// HEALTHCHECK, ENV and build step; compose.yaml's environment of the instances.
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const DEPLOY = join(ROOT, 'deploy');
export const UNIT_FILE = join(DEPLOY, 'scope-auth@.service');

export interface Unit {
  /** Every Key=Value of [Service], in order (a key may repeat). */
  readonly service: readonly (readonly [string, string])[];
  readonly execStart: readonly string[];
}

export function readUnit(): Unit {
  const service: [string, string][] = [];
  let section = '';
  for (const line of readFileSync(UNIT_FILE, 'utf8').split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) section = header[1]!;
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (setting && section === 'Service') service.push([setting[1]!, setting[2]!]);
  }
  const execStart = service.find(([key]) => key === 'ExecStart')![1].split(/\s+/);
  return { service, execStart };
}

export interface UnitProcess {
  readonly argv: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
}

/** KEY=VALUE lines, as systemd's EnvironmentFile= reads the plain ones (no quotes used here). */
export function readEnvironmentFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

/**
 * What systemd would start for instance `instance` of the unit: its ExecStart with `paths`
 * swapped (the install directory, /etc/scope-auth, node), its EnvironmentFile= and
 * Environment= settings, its credentials copied (mode 0400) into a directory standing for
 * %d, and its state directory (under `stateRoot`, standing for %S) as working directory.
 */
export function unitProcess(unit: Unit, options: { instance: string; paths: readonly (readonly [string, string])[]; stateRoot: string; credentialsRoot: string }): UnitProcess {
  const swap = (value: string) => options.paths.reduce((text, [from, to]) => text.split(from).join(to), value);
  const credentials = join(options.credentialsRoot, options.instance);
  mkdirSync(credentials, { recursive: true, mode: 0o700 });
  const specifiers = (value: string) => value.replace(/%i/g, options.instance).replace(/%d/g, credentials).replace(/%S/g, options.stateRoot);
  const env: Record<string, string> = {};
  let cwd = '';
  for (const [key, raw] of unit.service) {
    const value = swap(specifiers(raw));
    if (key === 'EnvironmentFile') Object.assign(env, readEnvironmentFile(value));
    if (key === 'Environment') {
      const [name, ...rest] = value.split('=');
      env[name!] = rest.join('=');
    }
    if (key === 'LoadCredential') {
      const [name, source] = value.split(':') as [string, string];
      copyFileSync(source, join(credentials, name));
      chmodSync(join(credentials, name), 0o400);
    }
    if (key === 'StateDirectory') mkdirSync(join(options.stateRoot, value), { recursive: true, mode: 0o700 });
    if (key === 'WorkingDirectory') cwd = value;
  }
  return { argv: unit.execStart.map(swap), env, cwd };
}

export interface Dockerfile {
  readonly text: string;
  readonly cmd: readonly string[];
  readonly healthcheck: readonly string[];
  /** ENV of the final stage. */
  readonly env: Record<string, string>;
  readonly workdir: string;
}

export function readDockerfile(): Dockerfile {
  const text = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const json = (pattern: RegExp) => JSON.parse(pattern.exec(text)![1]!) as string[];
  const env: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(/^ENV ([A-Z0-9_]+)=(\S+)$/gm)) env[name!] = value!;
  return {
    text,
    cmd: json(/^CMD (\[.*\])$/m),
    healthcheck: json(/^HEALTHCHECK .* CMD (\[.*\])$/m),
    env,
    workdir: /^WORKDIR (\S+)$/m.exec(text)![1]!,
  };
}

/**
 * The environment compose.yaml gives both instances (its `x-scope-auth` block), with
 * `${VAR:-default}` as Compose interpolates it when VAR is unset. The block is plain
 * `KEY: value` lines, which is all this reads.
 */
export function composeEnvironment(): Record<string, string> {
  const text = readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8');
  const lines = text.split('\n');
  const start = lines.indexOf('  environment: &scope-auth-environment');
  if (start === -1) throw new Error('deploy/compose.yaml has no "environment: &scope-auth-environment" block');
  const env: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('    ')) break;
    const match = /^ {4}([A-Z0-9_]+): (.*)$/.exec(line);
    if (!match) continue;
    const value = match[2]!.replace(/^"(.*)"$/, '$1').replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
    env[match[1]!] = value;
  }
  return env;
}

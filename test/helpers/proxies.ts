// nginx and Caddy run from the repository's own proxy configurations (deploy/nginx,
// deploy/caddy) as processes of the test: a temporary prefix, pid and log files, on
// 127.0.0.1 ports, with a self-signed certificate; and an HTTPS client that can send from
// any loopback address, so the address a proxy forwards can be told from its own.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { DEPLOY } from './deploy-files.js';

/** Whether `command` is on the PATH. */
export function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export interface Certificate {
  readonly cert: string;
  readonly key: string;
  /** The certificate's PEM, to trust it as a CA. */
  readonly pem: string;
}

/** A self-signed P-256 certificate for 127.0.0.1, valid for a day. */
export function selfSignedCertificate(dir: string): Certificate {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

/** Replaces `pattern` in `text`, failing when the file no longer has it (it changed apart from its test). */
function replaced(text: string, file: string, pattern: RegExp, by: string): string {
  if (!pattern.test(text)) throw new Error(`${file} no longer matches ${pattern}`);
  return text.replace(pattern, by);
}

export interface ProxyProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** SIGTERM to its pid, then its exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

function started(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; url: string }): ProxyProcess {
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: options.url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * deploy/nginx/scope-auth.conf with the test's ports, upstreams and certificate, inside a
 * main configuration of the test's own; `nginx -t` first. The HTTP → HTTPS redirect listens
 * on `httpPort`.
 */
export function startNginx(options: { dir: string; httpsPort: number; httpPort: number; upstreams: readonly number[]; certificate: Certificate }): ProxyProcess {
  const file = 'deploy/nginx/scope-auth.conf';
  let site = readFileSync(join(DEPLOY, 'nginx/scope-auth.conf'), 'utf8');
  site = replaced(site, file, /^ {4}listen \[::\]:(80|443).*\n/gm, '');
  site = replaced(site, file, /listen 443 ssl http2;/, `listen 127.0.0.1:${options.httpsPort} ssl http2;`);
  site = replaced(site, file, /listen 80;/, `listen 127.0.0.1:${options.httpPort};`);
  site = replaced(site, file, /^( {4}server 127\.0\.0\.1:8081 .*\n)( {4}server 127\.0\.0\.1:8082 .*\n)/m, options.upstreams.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=5s;\n`).join(''));
  site = replaced(site, file, /ssl_certificate \S+;/, `ssl_certificate ${options.certificate.cert};`);
  site = replaced(site, file, /ssl_certificate_key \S+;/, `ssl_certificate_key ${options.certificate.key};`);
  const prefix = join(options.dir, 'nginx');
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, 'scope-auth.conf'), site);
  // Workers run as this user (ignored unless nginx starts as root), so they can use the prefix.
  const main = [
    `user ${userInfo().username};`,
    'worker_processes 1;',
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'error.log')} warn;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(prefix, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(prefix, kind)};`),
    `  include ${join(prefix, 'scope-auth.conf')};`,
    '}',
    '',
  ].join('\n');
  writeFileSync(join(prefix, 'nginx.conf'), main);
  const args = ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')];
  execFileSync('nginx', [...args, '-t'], { stdio: 'pipe' });
  return started('nginx', [...args, '-g', 'daemon off;'], { url: `https://127.0.0.1:${options.httpsPort}` });
}

/**
 * deploy/caddy/Caddyfile with AUTH_DOMAIN and AUTH_UPSTREAMS set as compose.yaml sets them,
 * the test's certificate in place of one from an ACME CA, bound to 127.0.0.1, and no admin
 * endpoint (its port 2019 would be shared by every Caddy on the machine).
 */
export function startCaddy(options: { dir: string; httpsPort: number; upstreams: readonly number[]; certificate: Certificate }): ProxyProcess {
  const file = 'deploy/caddy/Caddyfile';
  const home = join(options.dir, 'caddy');
  mkdirSync(home, { recursive: true });
  let caddyfile = readFileSync(join(DEPLOY, 'caddy/Caddyfile'), 'utf8');
  caddyfile = replaced(caddyfile, file, /^(\{\$AUTH_DOMAIN:[^}]+\} \{)$/m, `$1\n\ttls ${options.certificate.cert} ${options.certificate.key}\n\tbind 127.0.0.1`);
  caddyfile = `{\n\tadmin off\n\tauto_https off\n}\n${caddyfile}`;
  const path = join(home, 'Caddyfile');
  writeFileSync(path, caddyfile);
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    AUTH_DOMAIN: `https://127.0.0.1:${options.httpsPort}`,
    AUTH_UPSTREAMS: options.upstreams.map((port) => `127.0.0.1:${port}`).join(' '),
  };
  execFileSync('caddy', ['validate', '--config', path, '--adapter', 'caddyfile'], { env, stdio: 'pipe' });
  return started('caddy', ['run', '--config', path, '--adapter', 'caddyfile'], { env, url: env.AUTH_DOMAIN });
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One HTTPS request trusting `ca`, sent from `localAddress` (any 127.0.0.0/8 address), on a connection of its own. */
export function httpsRequest(
  url: string,
  options: { ca: string; localAddress?: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) },
        ca: options.ca,
        agent: false,
        timeout: 10_000,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.once('timeout', () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.once('error', reject);
    req.end(options.body);
  });
}

/** Resolves once `url` answers 200 over HTTPS; throws after `timeoutMs` with the proxy's output. */
export async function waitForHttps(proxy: ProxyProcess, path: string, ca: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proxy.child.exitCode !== null) throw new Error(`the proxy exited:\n${proxy.output()}`);
    const ok = await httpsRequest(`${proxy.url}${path}`, { ca }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${proxy.url}${path} did not answer 200 within ${timeoutMs} ms:\n${proxy.output()}`);
}

// The two settings that are secrets, the key-encryption key and the database URL (which
// holds the database password): each from its variable, or from the file that <NAME>_FILE
// names. A file is how container platforms and service managers hand secrets over (docker
// and compose secrets in /run/secrets, systemd credentials, Kubernetes secret volumes), and
// it keeps the secret out of the process environment, which `docker inspect`, /proc and
// crash reports show. The file's surrounding whitespace, its trailing newline included, is
// ignored. Messages name the variable and the file, never what the file holds.
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

type Env = Readonly<Record<string, string | undefined>>;

type SecretName = 'SCOPE_AUTH_KEK' | 'SCOPE_AUTH_DATABASE_URL';

interface Secret {
  readonly value: string;
  /** What a message calls it: `SCOPE_AUTH_KEK`, or `SCOPE_AUTH_KEK_FILE="/run/secrets/kek"`. */
  readonly source: string;
  readonly fromFile: boolean;
}

function given(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value.trim() === '' ? null : value.trim();
}

/** The secret `name` from its variable or its file; null when neither is set. Throws ConfigError when both are. */
function readSecret(env: Env, name: SecretName): Secret | null {
  const fileVariable = `${name}_FILE`;
  const direct = given(env, name);
  const path = given(env, fileVariable);
  if (direct !== null && path !== null) {
    throw new ConfigError(`${name} and ${fileVariable} are both set: set one of them (${fileVariable} names a file holding the value)`);
  }
  if (path === null) return direct === null ? null : { value: direct, source: name, fromFile: false };
  const source = `${fileVariable}=${JSON.stringify(path)}`;
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    // The system's message names the file and the reason (ENOENT, EACCES, EISDIR), nothing it holds.
    throw new ConfigError(`${source} cannot be read: ${(error as Error).message}`);
  }
  const value = content.trim();
  // An empty file must not mean "unset": the server would fall back to a new KEK or to SQLite.
  if (value === '') throw new ConfigError(`${source} is invalid: the file is empty`);
  return { value, source, fromFile: true };
}

/** SCOPE_AUTH_DATABASE_URL (or its file), else `fallback`. */
export function databaseUrl(env: Env, fallback: string): string {
  const secret = readSecret(env, 'SCOPE_AUTH_DATABASE_URL');
  const raw = secret?.value ?? fallback;
  if (/^sqlite:.+/.test(raw) || /^postgres(ql)?:\/\/.+/.test(raw)) return raw;
  // A file's content is not echoed, nor a URL's user and password: startup errors reach the logs.
  const shown = raw.replace(/\/\/[^/@]*@/, '//…@');
  const given = secret?.fromFile ? `${secret.source} holds no database URL` : `SCOPE_AUTH_DATABASE_URL=${JSON.stringify(shown)} is invalid`;
  throw new ConfigError(`${given}: expected sqlite:<path> (or sqlite::memory:) or postgres://user@host:port/database`);
}

/** SCOPE_AUTH_KEK (or its file) as its 32 bytes; null when neither is set (the server uses keys/kek). */
export function kek(env: Env): Buffer | null {
  const secret = readSecret(env, 'SCOPE_AUTH_KEK');
  if (secret === null) return null;
  const bytes = Buffer.from(secret.value, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret.value) || bytes.length !== 32) {
    throw new ConfigError(`${secret.source} is invalid: expected 32 random bytes in base64 (openssl rand -base64 32)`);
  }
  return bytes;
}

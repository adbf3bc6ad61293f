// The console's two static files, console.css and console.js, read once when the app is
// built and served from memory. Pages link them as `/console/assets/<file>?v=<digest>`: a
// request with the current digest may be cached for a year (the URL changes with the file);
// any other is answered with `no-cache` and an ETag.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { NotFoundError } from '../errors.js';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly digest: string;
  /** The URL pages link, with the digest. */
  readonly url: string;
}

export type Assets = Readonly<Record<'css' | 'js', Asset>>;

const FILES = { css: ['console.css', 'text/css; charset=utf-8'], js: ['console.js', 'text/javascript; charset=utf-8'] } as const;

/**
 * In a clone, the sources (src/console/assets, also when running compiled from
 * dist/src/console: a change to them needs no build); in a package, which has no sources,
 * the copy the build puts next to the compiled module.
 */
function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', '..', '..', 'src', 'console', 'assets'), join(here, 'assets')];
  const found = candidates.find((dir) => existsSync(join(dir, FILES.js[0])));
  if (found === undefined) throw new Error(`the console's assets are missing (looked in ${candidates.join(', ')})`);
  return found;
}

export function loadAssets(): Assets {
  const dir = assetsDir();
  const load = (key: keyof typeof FILES): Asset => {
    const [file, type] = FILES[key];
    const body = readFileSync(join(dir, file));
    const digest = createHash('sha256').update(body).digest('base64url').slice(0, 16);
    return { body, type, digest, url: `/console/assets/${file}?v=${digest}` };
  };
  return Object.freeze({ css: load('css'), js: load('js') });
}

export function assetRoutes(assets: Assets): Router {
  const byFile = new Map(Object.values(assets).map((asset) => [asset.url.slice('/console/assets/'.length).split('?')[0]!, asset]));
  const router = Router();
  router.get('/console/assets/:file', (req, res) => {
    const asset = byFile.get(req.params.file);
    if (asset === undefined) throw new NotFoundError(`no console asset ${req.params.file}`);
    const etag = `"${asset.digest}"`;
    res.setHeader('Content-Type', asset.type);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', req.query['v'] === asset.digest ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (req.get('if-none-match') === etag) {
      res.status(304).end();
      return;
    }
    res.end(asset.body);
  });
  return router;
}

// One HTTP attempt of a webhook delivery: a POST that connects only to an address the SSRF
// guard allowed (the host name is resolved here, each address checked, and the socket handed
// exactly those: a DNS answer that changes between check and connect cannot slip past), no
// redirect followed, one time limit for connecting and answering, and at most 1 KiB of the
// answer read.
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { httpAllowedTo, literalAddress, refusedAddress, type AddressPolicy } from './webhook-addresses.js';

/** What a host name resolves to; injectable so tests need no DNS. */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Bytes of a response body kept (and read) at most. */
export const RESPONSE_BYTES_MAX = 1024;

export interface SendRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Ends the attempt at once (the server is stopping). */
  readonly signal?: AbortSignal;
}

/** The receiver's status and (≤ 1 KiB of) its body, or why there was no answer. */
export type SendResult = { readonly statusCode: number; readonly body: string } | { readonly statusCode: null; readonly error: string };

export type Sender = (request: SendRequest) => Promise<SendResult>;

export interface SenderOptions {
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  readonly resolve?: Resolver;
}

class RefusedDestination extends Error {}

const STOPPED = 'the server stopped during the attempt';

/** What the guard refuses `address` as for this scheme, or null. */
function refusal(address: string, https: boolean, policy: AddressPolicy): string | null {
  const refused = refusedAddress(address, policy);
  if (refused !== null) return refused;
  return https || httpAllowedTo(address, policy) ? null : 'not a loopback address, where http:// alone may go';
}

function describeError(error: unknown): string {
  if (error instanceof RefusedDestination) return `refused by the SSRF guard: ${error.message}`;
  const { code, message } = error as NodeJS.ErrnoException;
  const text = code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
  return text.slice(0, 300);
}

export function createSender(options: SenderOptions): Sender {
  const { policy, timeoutMs } = options;
  const resolve = options.resolve ?? systemResolver;

  return (request) =>
    new Promise<SendResult>((settle) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      let unhook = () => {};
      const finish = (result: SendResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unhook();
        settle(result);
      };
      if (request.signal?.aborted) return finish({ statusCode: null, error: STOPPED });
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return finish({ statusCode: null, error: 'the webhook URL is not a valid URL' });
      }
      const https = url.protocol === 'https:';
      const literal = literalAddress(url);
      if (literal !== null) {
        const refused = refusal(literal, https, policy);
        if (refused !== null) return finish({ statusCode: null, error: describeError(new RefusedDestination(`${literal} is ${refused}`)) });
      }

      const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
        resolve(hostname)
          .then((addresses) => {
            if (addresses.length === 0) throw new Error(`${hostname} has no address`);
            for (const { address } of addresses) {
              const refused = refusal(address, https, policy);
              if (refused !== null) throw new RefusedDestination(`${hostname} resolves to ${address}, ${refused}`);
            }
            const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? addresses.filter((a) => a.family === lookupOptions.family) : addresses;
            if (wanted.length === 0) throw new Error(`${hostname} has no IPv${lookupOptions.family} address`);
            if (lookupOptions.all === true) callback(null, wanted.map(({ address, family }) => ({ address, family })));
            else callback(null, wanted[0]!.address, wanted[0]!.family);
          })
          .catch((error: unknown) => callback(error as NodeJS.ErrnoException, '', 0));
      };

      let response: IncomingMessage | undefined;
      const chunks: Buffer[] = [];
      let kept = 0;
      const answered = () => finish({ statusCode: response!.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });

      // agent: false: a connection of its own, made through the lookup above, closed after the answer.
      const outgoing = (https ? httpsRequest : httpRequest)(
        url,
        { method: 'POST', headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) }, agent: false, lookup },
        (res) => {
          response = res;
          res.on('data', (chunk: Buffer) => {
            const room = RESPONSE_BYTES_MAX - kept;
            if (room > 0) {
              chunks.push(chunk.subarray(0, room));
              kept += Math.min(room, chunk.length);
            }
            // Enough: stop reading; the rest of the body is never taken from the socket.
            if (kept >= RESPONSE_BYTES_MAX) {
              answered();
              res.destroy();
            }
          });
          res.on('end', answered);
          res.on('close', answered);
          res.on('error', answered);
        },
      );
      outgoing.on('error', (error) => {
        if (response !== undefined) answered();
        else finish({ statusCode: null, error: describeError(error) });
      });
      const stop = () => {
        finish({ statusCode: null, error: STOPPED });
        outgoing.destroy();
      };
      request.signal?.addEventListener('abort', stop, { once: true });
      unhook = () => request.signal?.removeEventListener('abort', stop);
      timer = setTimeout(() => {
        // An answer that began in time counts as given; its body is what arrived.
        if (response !== undefined) answered();
        else finish({ statusCode: null, error: `no answer within ${timeoutMs / 1000} s` });
        outgoing.destroy();
      }, timeoutMs);
      outgoing.end(request.body);
    });
}

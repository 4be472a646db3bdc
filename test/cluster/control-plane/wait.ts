// Polling with a deadline, and a tiny HTTPS GET that trusts only the test CA.
import https from 'node:https';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export class TimeoutError extends Error {}

/** Thrown by a `waitFor` check to stop waiting at once (e.g. the process being waited on died). */
export class GiveUp extends Error {}

/**
 * Calls `check` every `intervalMs` until it returns a value other than undefined, or throws
 * after `timeoutMs` with `what` and the last error `check` threw (if any) in the message.
 */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new TimeoutError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

export interface GetResult {
  status: number;
  body: string;
}

/** GET over http or https; with `ca` only that CA is trusted; `token` becomes a Bearer header. */
export function httpGet(url: string, options: { ca?: string | Buffer; token?: string; timeoutMs?: number } = {}): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = target.protocol === 'https:'
      ? https.get(target, { headers, ...(options.ca ? { ca: options.ca } : {}) }, onResponse)
      : http.get(target, { headers }, onResponse);
    req.setTimeout(options.timeoutMs ?? 5000, () => req.destroy(new Error(`GET ${url}: no answer within ${options.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
  });
}

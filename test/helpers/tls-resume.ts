// One TLS handshake that reports session resumption, shared by the session-ticket tests
// (in-process proxies and proxy pods on the cluster alike).
import tls from 'node:tls';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface ResumeProbe {
  host: string;
  port: number;
  servername: string;
  version: TlsVersion;
  /** A session (ticket) from an earlier handshake to offer. */
  session?: Buffer;
}

/**
 * Resolves once the backend's greeting arrived (the proxy sends its tickets before relaying
 * it) with whether the offered session was reused and the last ticket the server sent (null
 * when it sent none, as on a TLS 1.2 resumption).
 */
export function resumableHandshake(probe: ResumeProbe): Promise<{ reused: boolean; ticket: Buffer | null }> {
  const { host, port, servername, version, session } = probe;
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, servername, rejectUnauthorized: false, minVersion: version, maxVersion: version, ...(session ? { session } : {}) });
    let reused = false;
    let ticket: Buffer | null = null;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`${host}:${port}: no greeting from the backend within 5 s`));
    }, 5000);
    s.once('secureConnect', () => (reused = s.isSessionReused()));
    s.on('session', (t: Buffer) => (ticket = t));
    s.once('data', () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ reused, ticket });
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

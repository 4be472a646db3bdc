/** The operator's plain-HTTP admin endpoint: liveness, readiness (informers synced), leadership, Prometheus metrics. */
import http from 'node:http';

export interface AdminState {
  synced(): boolean;
  leader(): boolean;
  /** The Prometheus text exposition (operator/metrics.ts). */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Where a failed scrape or a server error is reported. */
  warn(message: string): void;
}

export async function startAdminServer(host: string, port: number, state: AdminState): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const send = (code: number, body: string) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body + '\n');
    };
    switch (req.url) {
      case '/healthz':
        return send(200, 'ok');
      case '/readyz':
        return state.synced() ? send(200, 'ok') : send(503, 'informers not synced');
      case '/leader':
        return send(200, state.leader() ? 'leader' : 'follower');
      case '/metrics':
        state.metrics().then(
          ({ contentType, body }) => {
            res.writeHead(200, { 'content-type': contentType });
            res.end(body);
          },
          (err: unknown) => {
            state.warn(`metrics scrape failed: ${(err as Error).message}`);
            send(500, 'metrics collection failed');
          },
        );
        return;
      default:
        return send(404, 'not found');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  // After listening, a server error (rare: EMFILE on accept) is reported, never thrown.
  const reportLater = (err: Error) => state.warn(`admin server: ${err.message}`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', reportLater);
      resolve();
    });
  });
  return server;
}

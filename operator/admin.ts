/** The operator's plain-HTTP admin endpoint: liveness, readiness (informers synced), leadership. */
import http from 'node:http';

export interface AdminState {
  synced(): boolean;
  leader(): boolean;
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
      default:
        return send(404, 'not found');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  // After listening, a server error (rare: EMFILE on accept) is reported, never thrown.
  const reportLater = (err: Error) => process.stderr.write(`operator admin server: ${err.message}\n`);
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

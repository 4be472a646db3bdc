// Talking to test servers over real sockets (no Kubernetes client, so it loads fast).
import http from 'node:http';
import net from 'node:net';

export function httpGetText(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/**
 * Connects, collects what the server says first, sends `lines` one by one and collects the
 * answers; resolves with everything received once `expectLines` lines have arrived.
 */
export function tcpConversation(host: string, port: number, lines: string[], expectLines: number, timeoutMs = 5000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = '';
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error); else resolve(received.split('\n').slice(0, expectLines));
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`${host}:${port}: only got ${JSON.stringify(received)} within ${timeoutMs} ms`)));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.split('\n').length > expectLines) finish();
    });
    socket.on('connect', () => { for (const line of lines) socket.write(`${line}\n`); });
    socket.on('error', (error) => finish(error));
    socket.on('end', () => finish(new Error(`${host}:${port} closed after ${JSON.stringify(received)}`)));
  });
}

/**
 * Records the ClientHello that Node's TLS client sends for a given SNI, so that the load
 * generator can replay it byte for byte through the Passthrough listeners without paying for
 * a TLS handshake of its own.
 */
import net from 'node:net';
import tls from 'node:tls';

/** A TLS record header is 5 bytes: type, version (2), length (2). */
const RECORD_HEADER_BYTES = 5;

export function recordClientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      let buffered = Buffer.alloc(0);
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < RECORD_HEADER_BYTES) return;
        const recordEnd = RECORD_HEADER_BYTES + buffered.readUInt16BE(3);
        if (buffered.length < recordEnd) return;
        socket.destroy();
        server.close();
        if (buffered[0] !== 0x16) reject(new Error(`recorded ClientHello for ${servername} is not a TLS handshake record`));
        else resolve(buffered.subarray(0, recordEnd));
      });
    });
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      const client = tls.connect({ host: '127.0.0.1', port, servername, minVersion: 'TLSv1.2', rejectUnauthorized: false });
      // The recorder hangs up mid-handshake on purpose.
      client.on('error', () => client.destroy());
    });
  });
}

// Stands in for registry.k8s.io/gateway-api/echo-basic in the node agent's image table:
// with TCP_ECHO_SERVER set it is the speak-first TCP/TLS line server (tcp-echo.ts),
// otherwise the HTTP/HTTPS echo (tls-echo.ts). gRPC and h2c modes are not provided.
import { isEntrypoint, exitOnSignals } from './pod-context.js';
import { startTcpEcho, tcpEchoOptionsFromEnv } from './tcp-echo.js';
import { startHttpEcho, httpEchoOptionsFromEnv } from './tls-echo.js';

if (isEntrypoint(import.meta.url)) {
  if (process.env.GRPC_ECHO_SERVER) {
    console.error('echo-basic: GRPC_ECHO_SERVER is not supported by this stand-in');
    process.exit(2);
  }
  if (process.env.TCP_ECHO_SERVER) {
    const server = await startTcpEcho(tcpEchoOptionsFromEnv());
    console.log(`echo-basic (tcp): tcp on ${server.tcpPort}${server.tlsPort ? `, tls on ${server.tlsPort}` : ''}`);
    exitOnSignals(() => server.close());
  } else {
    const server = await startHttpEcho(httpEchoOptionsFromEnv());
    console.log(`echo-basic (http): http on ${server.httpPort}${server.httpsPort ? `, https on ${server.httpsPort}` : ''}`);
    exitOnSignals(() => server.close());
  }
}

// Preload for measure-workers.ts (`node --import ./dist/bench/proxy/probes/reuse-port.js`), an
// experiment only: with REUSEPORT=1, every cluster worker binds its own SO_REUSEPORT socket for
// each listener (Node >= 22.12; `exclusive` keeps the primary out of it), so the kernel hands
// each new connection to one worker's socket instead of waking every worker on a shared one.
// The runtime itself does not do this (docs/proxy.md, "Workers").
import cluster from 'node:cluster';
import net from 'node:net';

if (cluster.isWorker && process.env.REUSEPORT === '1') {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    const options = args[0];
    if (typeof options === 'object' && options !== null && typeof (options as net.ListenOptions).port === 'number') {
      args[0] = { ...(options as net.ListenOptions), exclusive: true, reusePort: true };
    }
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;
}

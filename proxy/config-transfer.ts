/**
 * Proxy configs cut into pieces for the trip to a relay thread: from standalone's manifest
 * thread (proxy/standalone/threaded.ts) and from the cluster primary to each worker (IPC).
 *
 * Deserialising a message runs on the receiving thread in one go: one message holding 50,000
 * routes would block the relay for as long as that takes. So a set of configs travels as a
 * skeleton (every config with its listeners' `routes` and `hostnames` emptied) and then pieces
 * of at most `ROUTES_PER_PIECE` routes and hostname entries, each its own message. Hostname
 * entries index their listener's routes; pieces are appended in order, so those indexes hold
 * once all arrived.
 */
import type { HostnameEntry, ProxyConfig, RouteConfig } from '../src/proxy-config.js';

export const ROUTES_PER_PIECE = 1000;

export interface ConfigPiece {
  config: number;
  port: number;
  listener: number;
  routes: RouteConfig[];
  hostnames: HostnameEntry[];
}

export interface SplitConfigs {
  skeleton: ProxyConfig[];
  pieces: ConfigPiece[];
}

export function splitConfigs(configs: readonly ProxyConfig[], perPiece = ROUTES_PER_PIECE): SplitConfigs {
  const pieces: ConfigPiece[] = [];
  const skeleton = configs.map((config, c) => ({
    ...config,
    ports: config.ports.map((port, p) => ({
      ...port,
      listeners: port.listeners.map((listener, l) => {
        const count = Math.max(listener.routes.length, listener.hostnames.length);
        for (let start = 0; start < count; start += perPiece) {
          pieces.push({
            config: c,
            port: p,
            listener: l,
            routes: listener.routes.slice(start, start + perPiece),
            hostnames: listener.hostnames.slice(start, start + perPiece),
          });
        }
        return { ...listener, routes: [], hostnames: [] };
      }),
    })),
  }));
  return { skeleton, pieces };
}

/** Appends one piece to the skeleton it was cut from; throws naming the piece when it does not fit. */
export function joinPiece(skeleton: ProxyConfig[], piece: ConfigPiece): void {
  const listener = skeleton[piece.config]?.ports[piece.port]?.listeners[piece.listener];
  if (listener === undefined) throw new Error(`config transfer: no listener at configs[${piece.config}].ports[${piece.port}].listeners[${piece.listener}]`);
  for (const route of piece.routes) listener.routes.push(route);
  for (const entry of piece.hostnames) listener.hostnames.push(entry);
}

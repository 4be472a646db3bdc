// The access-log line (built by hand for speed) must be exactly the JSON a JSON.stringify of
// the entry gives, hostile client strings included; lines of one flush interval go out in one write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCESS_LOG_FLUSH_MS, accessLogLine, BatchedAccessLog, isoNow, type AccessLogSubject } from '../../../proxy/access-log.js';
import type { ClientHello } from '../../../proxy/clienthello.js';
import type { CompiledBackend, CompiledListener, CompiledRoute, PortTable } from '../../../proxy/routing.js';

const FIELDS = [
  'time',
  'client',
  'gateway',
  'port',
  'listener',
  'mode',
  'sni',
  'alpn',
  'route',
  'backend',
  'endpoint',
  'bytes_from_client',
  'bytes_to_client',
  'duration_ms',
  'result',
  'reason',
];

function subject(overrides: Partial<AccessLogSubject> = {}): AccessLogSubject {
  const gateway = 'ns/gw "quoted"';
  const table = { gateway, gatewayJson: JSON.stringify(gateway), port: 443 } as PortTable;
  const listener = { name: 'tls\\one', nameJson: JSON.stringify('tls\\one'), mode: 'Passthrough' } as CompiledListener;
  const route = { name: 'ns/route', nameJson: JSON.stringify('ns/route') } as CompiledRoute;
  const backend = { ref: 'ns/svc:443', refJson: JSON.stringify('ns/svc:443') } as CompiledBackend;
  const hello = { sni: 'a.example.com', alpn: ['h2', 'x"\\\u0001\u2028é'] } as ClientHello;
  return {
    startedAt: 1000,
    clientAddress: '127.0.0.1:5555',
    table,
    listener,
    hello,
    route,
    backend,
    endpoint: { address: '10.0.0.1', port: 8443 },
    result: 'ok',
    reason: '',
    ...overrides,
  };
}

describe('accessLogLine', () => {
  it('is one JSON line with every field, in order, escaping client-supplied strings', () => {
    const line = accessLogLine(subject(), 374, 1200, 1012.3456789);
    assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'));
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(entry), FIELDS);
    assert.ok(Math.abs(Date.parse(entry.time as string) - Date.now()) < 5000);
    assert.deepEqual(
      { ...entry, time: undefined },
      {
        time: undefined,
        client: '127.0.0.1:5555',
        gateway: 'ns/gw "quoted"',
        port: 443,
        listener: 'tls\\one',
        mode: 'Passthrough',
        sni: 'a.example.com',
        alpn: ['h2', 'x"\\\u0001\u2028é'],
        route: 'ns/route',
        backend: 'ns/svc:443',
        endpoint: '10.0.0.1:8443',
        bytes_from_client: 374,
        bytes_to_client: 1200,
        duration_ms: 12.346,
        result: 'ok',
        reason: null,
      },
    );
  });

  it('says null for what a rejected connection never had', () => {
    const line = accessLogLine(subject({ listener: null, hello: null, route: null, backend: null, endpoint: null, result: 'rejected', reason: 'not_tls' }), 0, 0, 1000);
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(entry), FIELDS);
    for (const field of ['listener', 'mode', 'sni', 'alpn', 'route', 'backend', 'endpoint']) assert.equal(entry[field], null, field);
    assert.equal(entry.result, 'rejected');
    assert.equal(entry.reason, 'not_tls');
    assert.equal(entry.duration_ms, 0);
  });

  it('keeps the ALPN of a hello without SNI', () => {
    const line = accessLogLine(subject({ hello: { sni: null, alpn: ['http/1.1'] } as ClientHello, result: 'rejected', reason: 'no_sni' }), 0, 0, 1000);
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry.sni, null);
    assert.deepEqual(entry.alpn, ['http/1.1']);
  });
});

describe('isoNow', () => {
  it('formats like Date#toISOString, across seconds and at every millisecond width', () => {
    for (const t of [0, 5, 42, 999, 1000, 1001, 1_764_235_782_007, 1_764_235_782_070, 1_764_235_782_700, 1_764_235_783_000, 1_764_235_782_999]) {
      assert.equal(isoNow(t), new Date(t).toISOString(), String(t));
    }
    const now = Date.now();
    assert.equal(isoNow(now), new Date(now).toISOString());
  });
});

describe('BatchedAccessLog', () => {
  it('writes the lines of a flush interval in one write, in order, and flush() writes what is pending', async () => {
    const writes: string[] = [];
    const log = new BatchedAccessLog({ write: (text) => writes.push(text) });
    const afterInterval = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 3 * ACCESS_LOG_FLUSH_MS));
    log.write('a\n');
    log.write('b\n');
    await new Promise((resolve) => setImmediate(resolve)); // a later event-loop turn joins the batch
    log.write('c\n');
    assert.deepEqual(writes, []);
    await afterInterval();
    assert.deepEqual(writes, ['a\nb\nc\n']);
    log.write('d\n');
    log.flush();
    assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
    await afterInterval();
    assert.equal(writes.length, 2, 'nothing left for the scheduled flush');
  });

  it('does not hold more than 64 KiB back', () => {
    const writes: string[] = [];
    const log = new BatchedAccessLog({ write: (text) => writes.push(text) });
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 64; i++) log.write(line);
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.length, 64 * 1024);
    log.flush();
  });
});

// The operator's logger: JSON lines with levels through pino, the level threshold, bound
// fields, and the last guard that keeps PEM private keys out of every line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { generateKeyPairSync } from 'node:crypto';
import { jsonLogger, lineLogger, parseLogLevel, REDACTED, scrubPrivateKeys } from '../../../operator/log.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

test('JSON lines carry level names, an ISO time, the message and fields; below the level nothing is written', () => {
  const out = capture();
  const logger = jsonLogger('info', out.stream);
  logger.debug('not shown');
  logger.info('reconciled', { gateways: 3 });
  logger.child({ component: 'informer' }).warn('watch failed', { kind: 'Secret' });
  logger.error('stop failed');
  const lines = out.lines();
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      ['info', 'reconciled'],
      ['warn', 'watch failed'],
      ['error', 'stop failed'],
    ],
  );
  assert.equal(lines[0]!.gateways, 3);
  assert.equal(lines[1]!.component, 'informer');
  assert.equal(lines[1]!.kind, 'Secret');
  assert.ok(!Number.isNaN(Date.parse(String(lines[0]!.time))), 'an ISO timestamp');
  assert.equal(lines[0]!.pid, undefined);
});

test('a private key in a message or a field is replaced, in JSON lines and plain lines', () => {
  const out = capture();
  const logger = jsonLogger('debug', out.stream);
  logger.warn(`bad Secret: ${pem}`, { detail: { body: `tls.key=${pem}` } });
  const plain: string[] = [];
  lineLogger((line) => plain.push(line)).error(`oops ${pem}`, { key: pem });
  const text = JSON.stringify(out.lines()) + plain.join('\n');
  assert.doesNotMatch(text, /PRIVATE KEY|MIG/);
  assert.equal(text.split(REDACTED).length - 1, 4);
  // A key cut off in the middle (an error message truncated) is removed to the end.
  assert.equal(scrubPrivateKeys(`x ${pem.slice(0, 60)}`), `x ${REDACTED}`);
});

test('plain lines: the level threshold and bound fields', () => {
  const lines: string[] = [];
  const logger = lineLogger((line) => lines.push(line), 'warn').child({ component: 'status' });
  logger.info('skipped');
  logger.warn('status of Gateway a/b: HTTP 500');
  assert.deepEqual(lines, ['status of Gateway a/b: HTTP 500 {"component":"status"}']);
});

test('--log-level accepts the four levels and names the flag otherwise', () => {
  assert.equal(parseLogLevel('debug'), 'debug');
  assert.throws(() => parseLogLevel('verbose'), /--log-level: expected one of debug, info, warn, error, got "verbose"/);
});

// All problems of a synth are reported together, each with its construct path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway, TlsRoute } from '../../../src/constructs/index.js';
import { synthError } from './helpers.js';

test('one synth reports every problem of every construct at once', () => {
  const error = synthError((chart) => {
    const gw = new Gateway(chart, 'gw', { gatewayClass: 'cls', listeners: [{ name: 'tls', port: 443 }, { name: 'tls', port: 70000, mode: 'Passthrough' }] });
    new TlsRoute(chart, 'route', { parents: [gw.listener('nope')], hostnames: ['10.0.0.1', 'Bad.example.com'], backends: [{ name: 'svc', weight: 5 }] });
  });
  const lines = error.split('\n').filter((l) => l.trim().startsWith('['));
  const expected = [
    '[test/gw] spec.listeners[1].port: must be between 1 and 65535, got 70000',
    '[test/gw] spec.listeners[0].tls.mode: tls mode must be set for protocol TLS (listener "tls")',
    '[test/gw] spec.listeners[1]: Listener name must be unique within the Gateway',
    '[test/route] spec.hostnames[0]: Hostnames cannot contain an IP',
    '[test/route] spec.hostnames[1]: Hostnames must be valid based on RFC-1123',
    '[test/route] spec.rules[0].backendRefs[0]: Must have port for Service reference',
    '[test/route] spec.parentRefs[0].sectionName: Gateway "test-gw" has no listener named "nope"',
  ];
  for (const part of expected) assert.ok(lines.some((l) => l.trim().startsWith(part)), `expected a line starting with ${JSON.stringify(part)} in:\n${error}`);
  assert.equal(lines.length, expected.length, error);
  assert.ok(lines.every((l) => l.includes('. Fix: ')), 'every line says how to fix it');
});

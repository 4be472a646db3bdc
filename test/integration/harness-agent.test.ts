// The node agent's pure parts: image table and Docker command rules, env expansion and the
// downward API, and the kubelet-style atomic volume writer (real files on disk).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { lookupImage, commandLine, repositoryOf, UnknownImageError, conformanceBinDir } from '../cluster/agent/images.js';
import { expand, fieldRefValue } from '../cluster/agent/env.js';
import { writeAtomically } from '../cluster/agent/atomic-dir.js';
import { PodIpAllocator } from '../cluster/agent/network.js';
import { podNodeBinary, setPodNodeBinary, containerPath } from '../cluster/agent/pod-node.js';

describe('node agent: image table', () => {
  it('strips tags and digests but keeps registry ports', () => {
    assert.equal(repositoryOf('ghcr.io/tlsgate/tlsgate:v1'), 'ghcr.io/tlsgate/tlsgate');
    assert.equal(repositoryOf('tlsgate@sha256:abc'), 'tlsgate');
    assert.equal(repositoryOf('localhost:5000/tlsgate'), 'localhost:5000/tlsgate');
    assert.equal(repositoryOf('localhost:5000/tlsgate:dev'), 'localhost:5000/tlsgate');
  });

  it('runs the tlsgate image as bin/tlsgate.js with args replacing the default arguments', () => {
    const entry = lookupImage('ghcr.io/tlsgate/tlsgate:0.1.0');
    const argv = commandLine(entry, undefined, ['proxy', '--gateway', 'ns/gw']);
    // The pods' Node (cluster:up --node): by default the agent's own.
    assert.equal(podNodeBinary(), process.execPath);
    assert.equal(argv[0], podNodeBinary());
    assert.match(argv[1]!, /bin\/tlsgate\.js$/);
    assert.deepEqual(argv.slice(2), ['proxy', '--gateway', 'ns/gw']);
    // A command naming the CLI inside the image maps to the same local CLI.
    assert.deepEqual(commandLine(entry, ['/usr/local/bin/tlsgate', 'operator'], ['--x']).slice(2), ['operator', '--x']);
    assert.throws(() => commandLine(entry, ['/bin/bash'], []), /not the tlsgate CLI/);
    // Node's flags before the script (the proxy Deployment's command) stay Node's flags.
    const withFlags = commandLine(entry, ['node', '--expose-gc', '/app/bin/tlsgate.js'], ['proxy']);
    assert.deepEqual([withFlags[0], withFlags[1]], [podNodeBinary(), '--expose-gc']);
    assert.match(withFlags[2]!, /bin\/tlsgate\.js$/);
    assert.deepEqual(withFlags.slice(3), ['proxy']);
    assert.throws(() => commandLine(entry, ['node', '--jitless', '/app/other.js'], []), /not the tlsgate CLI/);
  });

  it('runs every Node image and `node` on the containers\' PATH on the pods\' Node when one is configured', () => {
    const node24 = '/opt/node-v24/bin/node';
    assert.equal(containerPath('/usr/bin:/bin'), '/usr/bin:/bin', 'the default Node leaves PATH alone');
    assert.throws(() => setPodNodeBinary('node'), /absolute path/);
    setPodNodeBinary(node24);
    try {
      const tlsgate = lookupImage('ghcr.io/tlsgate/tlsgate:0.1.0');
      assert.equal(commandLine(tlsgate, undefined, ['operator'])[0], node24);
      assert.equal(commandLine(tlsgate, ['node', '/app/bin/tlsgate.js', 'proxy'], [])[0], node24);
      assert.equal(commandLine(lookupImage('tlsgate.test/tcp-echo'), undefined, undefined)[0], node24);
      assert.equal(commandLine(lookupImage('tlsgate.test/tls-echo'), undefined, undefined)[0], node24);
      assert.equal(containerPath('/usr/bin:/bin'), '/opt/node-v24/bin:/usr/bin:/bin');
    } finally {
      setPodNodeBinary(process.execPath);
    }
  });

  it('runs the conformance images as upstream\'s binaries (built by cluster:up) and rejects unknown images by name', () => {
    // Both tags of the base manifest; the binaries are Go programs, not the pods' Node.
    for (const image of ['registry.k8s.io/gateway-api/echo-basic:v1.5.1', 'registry.k8s.io/gateway-api/echo-basic:v1.6.0-dev.3']) {
      assert.deepEqual(commandLine(lookupImage(image), undefined, undefined), [path.join(conformanceBinDir, 'echo-basic')]);
    }
    assert.deepEqual(commandLine(lookupImage('registry.k8s.io/coredns/coredns:v1.12.2'), undefined, ['-conf', '/root/Corefile']),
      [path.join(conformanceBinDir, 'coredns'), '-conf', '/root/Corefile']);
    // Executables: ELF magic, not a leftover script.
    for (const name of ['echo-basic', 'coredns']) {
      assert.deepEqual([...readFileSync(path.join(conformanceBinDir, name)).subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], name);
    }
    assert.throws(() => lookupImage('docker.io/library/nginx:1.27'), (error: unknown) =>
      error instanceof UnknownImageError && error.message.includes('docker.io/library/nginx:1.27'));
  });
});

describe('node agent: environment', () => {
  const pod: k8s.V1Pod = {
    metadata: { name: 'p', namespace: 'n', uid: 'u-1', labels: { app: 'x' }, annotations: { 'a.b/c': 'v' } },
    spec: { nodeName: 'tlsgate-node', containers: [] },
  };

  it('expands $(VAR), keeps unknown references and unescapes $$', () => {
    assert.equal(expand('$(A)-$(B)-$$(A)-$(MISSING)', { A: '1', B: '2' }), '1-2-$(A)-$(MISSING)');
  });

  it('answers the downward API fields the kubelet supports and refuses others', () => {
    assert.equal(fieldRefValue(pod, 'metadata.name', '10.244.0.2', '10.244.0.1'), 'p');
    assert.equal(fieldRefValue(pod, 'metadata.namespace', '10.244.0.2', '10.244.0.1'), 'n');
    assert.equal(fieldRefValue(pod, 'status.podIP', '10.244.0.2', '10.244.0.1'), '10.244.0.2');
    assert.equal(fieldRefValue(pod, "metadata.labels['app']", '', ''), 'x');
    assert.equal(fieldRefValue(pod, "metadata.annotations['a.b/c']", '', ''), 'v');
    assert.throws(() => fieldRefValue(pod, 'spec.bogus', '', ''), /spec\.bogus/);
  });
});

describe('node agent: atomic volume writer', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsgate-volume-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('swaps the whole content at once through ..data and drops keys that vanished', () => {
    writeAtomically(dir, [{ path: 'tls.crt', content: Buffer.from('c1'), mode: 0o644 }, { path: 'tls.key', content: Buffer.from('k1'), mode: 0o600 }]);
    const first = readlinkSync(path.join(dir, '..data'));
    assert.equal(readFileSync(path.join(dir, 'tls.crt'), 'utf8'), 'c1');
    assert.equal(statSync(path.join(dir, 'tls.key')).mode & 0o777, 0o600);

    writeAtomically(dir, [{ path: 'tls.crt', content: Buffer.from('c2'), mode: 0o644 }, { path: 'sub/ca.crt', content: Buffer.from('ca'), mode: 0o644 }]);
    assert.notEqual(readlinkSync(path.join(dir, '..data')), first);
    assert.equal(readFileSync(path.join(dir, 'tls.crt'), 'utf8'), 'c2');
    assert.equal(readFileSync(path.join(dir, 'sub', 'ca.crt'), 'utf8'), 'ca');
    const names = readdirSync(dir).sort();
    assert.deepEqual(names.filter((n) => !n.startsWith('..')), ['sub', 'tls.crt']);
    // Exactly one version directory is kept.
    assert.equal(names.filter((n) => n.startsWith('..') && n !== '..data').length, 1);
  });

  it('refuses paths that escape the volume', () => {
    assert.throws(() => writeAtomically(dir, [{ path: '../evil', content: Buffer.from(''), mode: 0o644 }]), /must be relative/);
    assert.throws(() => writeAtomically(dir, [{ path: '/etc/passwd', content: Buffer.from(''), mode: 0o644 }]), /must be relative/);
  });
});

describe('node agent: pod addresses', () => {
  it('hands out distinct bridge addresses and does not reuse a released one right away (stale ARP entries)', () => {
    const ips = new PodIpAllocator();
    const a = ips.allocate();
    const b = ips.allocate();
    assert.equal(a, '10.244.0.2');
    assert.equal(b, '10.244.0.3');
    ips.release(a);
    assert.equal(ips.allocate(), '10.244.0.4');
    // Past .254 the next /24 is used; .255 and .0 are skipped.
    for (let i = 5; i <= 254; i++) ips.allocate();
    assert.equal(ips.allocate(), '10.244.1.1');
  });
});

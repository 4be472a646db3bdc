/**
 * `npm start`'s demo, in its self-check mode: the built demo creates its CA and certificates,
 * starts its backends, serves the upstream example (with its HTTPS app beside the Passthrough
 * listener) with standalone, and checks passthrough, terminate, rejection and HTTPS with real
 * connections. A second run reuses the certificates. The printed commands are run as printed.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { APP_GREETING } from '../../../examples/demo/backends.js';
import { HTTPS_LISTENER } from '../../../examples/demo/demo-manifests.js';
import { fromRoot } from '../../helpers/paths.js';
import { HOST, makeTempDir, opensslClient } from './support.js';

/** An offset whose 443 + offset and 8443 + offset were both free a moment ago. */
async function freeDemoOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 20000 + Math.floor(Math.random() * 30000);
    if ((await canBind(443 + offset)) && (await canBind(8443 + offset))) return offset;
  }
  throw new Error('no free port pair for the demo');
}

/** curl's stdout; the command fails the test when curl exits non-zero. */
function runCurl(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['--noproxy', '*', '--max-time', '10', ...args], { cwd }, (error, stdout, stderr) => {
      if (error) reject(new Error(`curl ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function runDemo(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fromRoot('dist', 'examples', 'demo', 'start.js'), ...args], {
      cwd: fromRoot(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000); // a guard against hangs, not a timing assertion
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the npm start demo passes its self-check, then reuses its certificates', async (t) => {
  const dir = makeTempDir(t);
  const offset = await freeDemoOffset();

  const first = await runDemo(['--once'], { TLSGATE_DEMO_DIR: dir, TLSGATE_DEMO_PORT_OFFSET: String(offset) });
  assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
  assert.match(first.stdout, /^Created the demo CA and certificates/m);
  assert.match(first.stdout, /^PASS\s+passthrough: foo\.example\.com presents foo-svc's own certificate$/m);
  assert.match(first.stdout, /^PASS\s+terminate: bar\.example\.com presents the gateway's certificate/m);
  assert.match(first.stdout, /^PASS\s+rejection: an unknown SNI is closed without a single byte$/m);
  assert.match(first.stdout, /^PASS\s+https: app\.example\.com on the same port reaches app-svc over HTTP\/2/m);
  assert.match(first.stdout, /^Self-check passed\.$/m);
  assert.doesNotMatch(first.stdout, /^FAIL/m);
  // The status table of the upstream example, and the commands to paste.
  assert.match(first.stdout, /^default\s+example-gateway\s+example-gateway-class\s+127\.0\.0\.1\s+True\s+True\s*$/m);
  assert.match(first.stdout, new RegExp(`openssl s_client -connect 127\\.0\\.0\\.1:${443 + offset} -servername foo\\.example\\.com`));
  assert.match(first.stdout, new RegExp(`openssl s_client -connect 127\\.0\\.0\\.1:${8443 + offset} -servername bar\\.example\\.com`));
  assert.match(first.stdout, /^HTTPRoute\s+default\s+app-route\s+app\.example\.com\s+example-gateway\/https\s+True\s+True\s*$/m);
  assert.match(first.stdout, new RegExp(`curl --cacert \\S+ --resolve app\\.example\\.com:${443 + offset}:127\\.0\\.0\\.1 https://app\\.example\\.com:${443 + offset}/`));
  // The upstream routes are served unchanged, the upstream Gateway with the HTTPS listener
  // appended; the private keys stay in the demo folder.
  for (const file of ['tls-route.yaml', 'tls-route-terminate.yaml', 'app-route.yaml']) {
    assert.equal(readFileSync(path.join(dir, 'manifests', file), 'utf8'), readFileSync(fromRoot('examples', 'demo', 'manifests', file), 'utf8'));
  }
  const served = parse(readFileSync(path.join(dir, 'manifests', 'gateway.yaml'), 'utf8')) as { spec: { listeners: { name: string }[] } };
  const upstream = parse(readFileSync(fromRoot('examples', 'demo', 'manifests', 'gateway.yaml'), 'utf8')) as { spec: { listeners: { name: string }[] } };
  assert.deepEqual(served.spec.listeners, [...upstream.spec.listeners, HTTPS_LISTENER]);
  assert.ok(existsSync(path.join(dir, 'pki', 'ca.crt')));
  assert.doesNotMatch(first.stdout + first.stderr, /PRIVATE KEY/);

  const caBefore = readFileSync(path.join(dir, 'pki', 'ca.crt'), 'utf8');
  const second = await runDemo(['--once', '--port-offset', String(offset)], { TLSGATE_DEMO_DIR: dir });
  assert.equal(second.code, 0, `${second.stdout}\n${second.stderr}`);
  assert.match(second.stdout, /^Reusing the demo CA and certificates/m);
  assert.match(second.stdout, /^Self-check passed\.$/m);
  assert.equal(readFileSync(path.join(dir, 'pki', 'ca.crt'), 'utf8'), caBefore);
});

test('the demo\'s printed openssl and curl commands show the two certificates and the HTTPS app', async (t) => {
  const dir = makeTempDir(t);
  const offset = await freeDemoOffset();
  const child = spawn(process.execPath, [fromRoot('dist', 'examples', 'demo', 'start.js'), '--port-offset', String(offset)], {
    cwd: fromRoot(),
    env: { ...process.env, TLSGATE_DEMO_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stdout = '';
  child.stderr.resume();
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`the demo did not come up:\n${stdout}`)), 120_000);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (/Serving until Ctrl-C/.test(stdout)) {
        clearTimeout(guard);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(guard);
      reject(new Error(`demo exited with ${code}:\n${stdout}`));
    });
  });

  const caFile = path.join(dir, 'pki', 'ca.crt');
  const foo = await opensslClient(443 + offset, 'foo.example.com', caFile, /^openssl-ping$/m);
  assert.match(foo.output, /subject=CN ?= ?foo\.example\.com, O ?= ?foo-svc \(the backend itself\)/);
  assert.match(foo.output, /Verify return code: 0 \(ok\)/);
  const bar = await opensslClient(8443 + offset, 'bar.example.com', caFile, /^openssl-ping$/m);
  assert.match(bar.output, /subject=CN ?= ?bar\.example\.com, O ?= ?tlsgate gateway/);
  assert.match(bar.output, /bar-svc: plain TCP echo/);
  // The curl command exactly as printed (curl negotiates HTTP/2 by ALPN on its own).
  const printed = new RegExp(`^\\s*(curl --cacert \\S+ --resolve \\S+ https://app\\.example\\.com:${443 + offset}/hello)$`, 'm').exec(stdout);
  assert.ok(printed, `no curl command in:\n${stdout}`);
  const curl = await runCurl([...printed[1]!.split(' ').slice(1), '--silent', '--show-error', '--write-out', '\n%{http_version}'], fromRoot());
  const cut = curl.lastIndexOf('\n');
  assert.equal(curl.slice(cut + 1), '2', curl);
  const answer = JSON.parse(curl.slice(0, cut)) as { backend: string; path: string; forwardedProto: string };
  assert.deepEqual([answer.backend, answer.path, answer.forwardedProto], [APP_GREETING, '/hello', 'https']);

  child.kill('SIGINT');
  assert.equal(await exited, 0, stdout);
});

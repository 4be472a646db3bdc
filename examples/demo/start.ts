/**
 * `npm start`: the upstream Gateway API "TLS routing" example, end to end on this machine,
 * with an HTTPS web app on the same port as the TLS Passthrough listener.
 *
 *   1. a CA and certificates (ECDSA P-256) in .demo/pki, reused when still valid;
 *   2. the backends: foo-svc (TLS, its own certificate), bar-svc (plain TCP echo) and app-svc
 *      (plain HTTP);
 *   3. the upstream Gateway (plus an HTTPS listener) and TLSRoutes, the demo's HTTPRoute, plus
 *      GatewayClass, Services, EndpointSlices and Secrets, written to .demo/manifests;
 *   4. `tlsgate standalone` serving them (port offset 10000: 443 → 10443, 8443 → 18443),
 *      watching .demo/manifests for edits;
 *   5. ready-to-paste `openssl s_client` and `curl` commands showing passthrough, terminate and
 *      HTTPS side by side.
 *
 * Options (or environment variables, for tests):
 *   --once            run the self-check and exit 0/1           TLSGATE_DEMO_ONCE=1
 *   --port-offset N   default 10000                             TLSGATE_DEMO_PORT_OFFSET
 *   --dir PATH        default <project>/.demo                   TLSGATE_DEMO_DIR
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CONTROLLER_NAME } from '../../src/gatewayapi/translate.js';
import { StandaloneGateway } from '../../proxy/standalone/standalone.js';
import { startAppBackend, startBarBackend, startFooBackend, type DemoBackend } from './backends.js';
import { ensureDemoPki } from './demo-pki.js';
import { writeDemoManifests } from './demo-manifests.js';
import { projectRoot } from './paths.js';
import { runSelfCheck } from './self-check.js';

const HOST = '127.0.0.1';
const PASSTHROUGH_PORT = 443; // the upstream Gateway's listener "tls"
const TERMINATE_PORT = 8443; // and "tls-terminate"

interface DemoOptions {
  once: boolean;
  portOffset: number;
  directory: string;
}

function readOptions(): DemoOptions {
  const { values } = parseArgs({
    options: { once: { type: 'boolean' }, 'port-offset': { type: 'string' }, dir: { type: 'string' } },
    strict: true,
  });
  const offsetText = values['port-offset'] ?? process.env.TLSGATE_DEMO_PORT_OFFSET ?? '10000';
  const portOffset = Number(offsetText);
  if (!Number.isInteger(portOffset) || portOffset < 0 || PASSTHROUGH_PORT + portOffset > 65535 || TERMINATE_PORT + portOffset > 65535) {
    throw new Error(`--port-offset must be an integer with 8443 + offset <= 65535, got "${offsetText}"`);
  }
  const once = values.once === true || ['1', 'true', 'yes'].includes(process.env.TLSGATE_DEMO_ONCE ?? '');
  return { once, portOffset, directory: path.resolve(values.dir ?? process.env.TLSGATE_DEMO_DIR ?? path.join(projectRoot, '.demo')) };
}

async function main(): Promise<number> {
  const options = readOptions();
  const say = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

  const pki = ensureDemoPki(path.join(options.directory, 'pki'));
  say(`${pki.created ? 'Created' : 'Reusing'} the demo CA and certificates (ECDSA P-256) in ${pki.directory}`);

  const backends: DemoBackend[] = [];
  let gateway: StandaloneGateway | undefined;
  const cleanUp = async (graceMs: number): Promise<void> => {
    await gateway?.stop(graceMs).catch((error: Error) => say(`shutdown error: ${error.message}`));
    await Promise.all(backends.map((b) => b.close()));
  };

  try {
    const foo = await startFooBackend(pki.fooBackend, HOST);
    backends.push(foo);
    const bar = await startBarBackend(HOST);
    backends.push(bar);
    const app = await startAppBackend(HOST);
    backends.push(app);
    say(
      `Backends: foo-svc (TLS, own certificate) on ${HOST}:${foo.port}, bar-svc (plain TCP echo) on ${HOST}:${bar.port}, ` +
        `app-svc (plain HTTP) on ${HOST}:${app.port}`,
    );

    const files = writeDemoManifests(path.join(options.directory, 'manifests'), path.join(projectRoot, 'examples', 'demo', 'manifests'), {
      controllerName: CONTROLLER_NAME,
      foo,
      bar,
      app,
      gatewayCertificate: pki.gateway,
      appCertificate: pki.app,
    });
    say(`Manifests: ${files.map(displayPath).join(' ')}\n`);

    gateway = await StandaloneGateway.start({
      paths: files,
      address: HOST,
      portOffset: options.portOffset,
      workers: 1, // the backends live in this process too; one in-process proxy keeps it simple
      watch: !options.once,
      out: say,
      log: (line) => void process.stderr.write(`tlsgate standalone: ${line}\n`),
      // Access log lines would interleave with the self-check output; keep them for interactive use.
      ...(options.once ? { accessLog: null } : {}),
    });

    const passthroughPort = PASSTHROUGH_PORT + options.portOffset;
    const terminatePort = TERMINATE_PORT + options.portOffset;
    const refused = gateway.firstOutcome?.applyErrors.get('default/example-gateway');
    if (refused !== undefined) {
      throw new Error(
        `the gateway cannot serve the example: ${refused}\n` +
          `Is another \`npm start\` running? Ports ${passthroughPort} and ${terminatePort} must be free; ` +
          'choose others with `npm start -- --port-offset N`.',
      );
    }
    const caFile = displayPath(pki.caFile);
    say(instructions(caFile, passthroughPort, terminatePort, displayPath(path.join(options.directory, 'manifests'))));

    if (options.once) {
      const results = await runSelfCheck({
        host: HOST,
        passthroughPort,
        terminatePort,
        ca: pki.ca,
        fooBackend: pki.fooBackend,
        gateway: pki.gateway,
        app: pki.app,
      });
      for (const result of results) say(`${result.ok ? 'PASS' : 'FAIL'}  ${result.name}\n      ${result.detail}`);
      const failed = results.filter((r) => !r.ok).length;
      say(failed === 0 ? 'Self-check passed.' : `Self-check FAILED: ${failed} of ${results.length} checks.`);
      await cleanUp(0);
      return failed === 0 ? 0 : 1;
    }

    say('Serving until Ctrl-C.');
    await new Promise<void>((resolve) => {
      const onSignal = (): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        say('\nStopping: draining connections for up to 5 s.');
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    await cleanUp(5000);
    return 0;
  } catch (error) {
    await cleanUp(0);
    throw error;
  }
}

/** Relative to the current directory when inside it (shorter to paste), else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function instructions(caFile: string, passthroughPort: number, terminatePort: number, manifestDir: string): string {
  return `
Try it (each command connects, shows the certificate, then lets you type; Ctrl-C to leave):

  # Passthrough: the gateway routes by SNI without decrypting; the certificate is foo-svc's OWN
  # ("O = foo-svc (the backend itself)"), and foo-svc greets you with the SNI it saw.
  openssl s_client -connect ${HOST}:${passthroughPort} -servername foo.example.com -CAfile ${caFile} -verify_return_error -brief

  # Terminate: the gateway decrypts with ITS certificate (Secret tls-terminate-certificate,
  # "O = tlsgate gateway ...") and sends plain bytes to bar-svc, an echo server.
  openssl s_client -connect ${HOST}:${terminatePort} -servername bar.example.com -CAfile ${caFile} -verify_return_error -brief

  # HTTPS on the Passthrough listener's port: SNI app.example.com chooses the HTTPS listener, the
  # gateway terminates TLS (certificate "O = tlsgate gateway (Secret app-certificate)") and HTTP/2,
  # and the HTTPRoute app-route sends the request to app-svc, which answers with what it received.
  curl --cacert ${caFile} --resolve app.example.com:${passthroughPort}:${HOST} https://app.example.com:${passthroughPort}/hello

  # Rejection: no route for this name, so the gateway closes the connection without a byte.
  openssl s_client -connect ${HOST}:${passthroughPort} -servername nobody.example.com -brief

Edit the manifests in ${manifestDir} and the gateway reloads them, without dropping connections.
`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`npm start: ${error.message}\n`);
    process.exitCode = 1;
  },
);

// The translate → deliver → learn → translate loop the operator and standalone share
// (src/converge.ts). The loop is pure orchestration, so its data plane is a fake here: what is
// tested is the order of the steps, what each one is given, and the bound on replanning. The last
// test drives the real translate with a fake data plane that refuses configs atomically, as the
// proxy runtime and the proxies' NACKs do, to show that what the loop hands translate is what
// makes a refused port's listener PortUnavailable while the rest of the Gateway is served.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, type Delivered, type UnavailablePorts } from '../../src/converge.js';
import { translate, type GatewayRuntime, type TranslateOutput } from '../../src/gatewayapi/translate.js';
import { loadManifests } from '../../src/manifests/load.js';
import { fromRoot } from '../helpers/paths.js';

interface FakeDelivery extends Delivered {
  round: number;
}

/** A loop whose data plane learns a new port on each of the first `learnings` deliveries. */
function scripted(options: { maxReplans: number; learnings: number }) {
  const calls: string[] = [];
  const known: UnavailablePorts = {};
  const deliveredPlans: { unavailablePorts: UnavailablePorts }[] = [];
  let delivered = 0;
  const steps = {
    maxReplans: options.maxReplans,
    unavailablePorts: () => {
      calls.push(`unavailable ${JSON.stringify(known)}`);
      return structuredClone(known);
    },
    plan: (unavailablePorts: UnavailablePorts) => {
      calls.push(`plan ${JSON.stringify(unavailablePorts)}`);
      return { unavailablePorts };
    },
    deliver: async (plan: { unavailablePorts: UnavailablePorts }, attempt: { round: number; replanAllowed: boolean }): Promise<FakeDelivery> => {
      await new Promise((resolve) => setImmediate(resolve)); // a real delivery answers later
      calls.push(`deliver round=${attempt.round} replanAllowed=${attempt.replanAllowed}`);
      deliveredPlans.push(plan);
      const learns = delivered < options.learnings;
      if (learns) (known['ns/gw'] ??= {})[1000 + delivered] = `taken ${delivered}`;
      delivered++;
      return { learnedUnavailablePorts: learns, round: attempt.round };
    },
    settle: (last: { plan: { unavailablePorts: UnavailablePorts }; delivery: FakeDelivery; unavailablePorts: UnavailablePorts; rounds: number }) => {
      calls.push(`settle rounds=${last.rounds}`);
      return last;
    },
  };
  return { steps, calls, deliveredPlans };
}

test('a delivery that learns nothing is settled at once, with the plan and ports it was made from', async () => {
  const { steps, calls } = scripted({ maxReplans: 3, learnings: 0 });
  const settled = await converge(steps);
  assert.deepEqual(calls, ['unavailable {}', 'plan {}', 'deliver round=0 replanAllowed=true', 'settle rounds=1']);
  assert.deepEqual(settled.unavailablePorts, {});
  assert.equal(settled.plan.unavailablePorts, settled.unavailablePorts, 'settle sees the ports of the plan it delivered');
  assert.equal(settled.delivery.round, 0);
});

test('learned ports are asked for again and planned without; settle gets the last plan, delivery and ports', async () => {
  const { steps, calls, deliveredPlans } = scripted({ maxReplans: 3, learnings: 2 });
  const settled = await converge(steps);
  assert.equal(deliveredPlans.length, 3);
  assert.equal(settled.plan, deliveredPlans[2], 'settle gets the plan delivered last');
  assert.deepEqual(calls, [
    'unavailable {}',
    'plan {}',
    'deliver round=0 replanAllowed=true',
    'unavailable {"ns/gw":{"1000":"taken 0"}}',
    'plan {"ns/gw":{"1000":"taken 0"}}',
    'deliver round=1 replanAllowed=true',
    'unavailable {"ns/gw":{"1000":"taken 0","1001":"taken 1"}}',
    'plan {"ns/gw":{"1000":"taken 0","1001":"taken 1"}}',
    'deliver round=2 replanAllowed=true',
    'settle rounds=3',
  ]);
  assert.deepEqual(settled.unavailablePorts, { 'ns/gw': { 1000: 'taken 0', 1001: 'taken 1' } });
  assert.equal(settled.delivery.round, 2);
});

test('replanning stops at the bound: the last delivery is told so and is settled even if it learned', async () => {
  const { steps, calls } = scripted({ maxReplans: 2, learnings: 100 });
  const settled = await converge(steps);
  assert.deepEqual(
    calls.filter((c) => c.startsWith('deliver') || c.startsWith('settle')),
    ['deliver round=0 replanAllowed=true', 'deliver round=1 replanAllowed=true', 'deliver round=2 replanAllowed=false', 'settle rounds=3'],
  );
  assert.equal(settled.delivery.learnedUnavailablePorts, true, 'what the last delivery learned is left to the caller');
  assert.deepEqual(Object.keys(settled.unavailablePorts['ns/gw']!), ['1000', '1001'], 'the ports of the last plan, not the ones learned after it');
});

test('maxReplans 0 delivers once, and tells that delivery no new plan follows', async () => {
  const { steps, calls } = scripted({ maxReplans: 0, learnings: 100 });
  await converge(steps);
  assert.deepEqual(calls, ['unavailable {}', 'plan {}', 'deliver round=0 replanAllowed=false', 'settle rounds=1']);
});

test('a delivery that fails rejects the loop, and nothing is settled', async () => {
  const { steps, calls } = scripted({ maxReplans: 3, learnings: 0 });
  const failing = { ...steps, deliver: async () => Promise.reject(new Error('config server closed')) };
  await assert.rejects(converge(failing), /config server closed/);
  assert.ok(!calls.some((c) => c.startsWith('settle')));
});

test('with the real translate and an atomic data plane: a refused port becomes PortUnavailable, the rest is served and Programmed', async () => {
  const { snapshot } = await loadManifests([fromRoot('examples', 'upstream')]);
  const now = new Date('2027-01-01T00:00:00Z');
  const address = { type: 'IPAddress' as const, value: '192.0.2.10' };
  const full = translate({ snapshot, now });
  const gateway = `${full.gateways[0]!.namespace}/${full.gateways[0]!.name}`;
  const ports = full.proxyConfigs[0]!.ports.map((p) => p.port);
  assert.ok(ports.length >= 2, 'the upstream example has two ports');
  const taken = ports[0]!;

  // Refuses a whole set when any config wants the taken port, naming it; serves it otherwise.
  const served = new Map<string, string>();
  const learned: UnavailablePorts = {};
  const refusedSets: number[][] = [];
  const output = await converge<TranslateOutput, Delivered, TranslateOutput>({
    maxReplans: 8,
    unavailablePorts: () => structuredClone(learned),
    plan: (unavailablePorts) => translate({ snapshot, now, runtime: { [gateway]: { addresses: [address] } }, unavailablePorts }),
    deliver: async (planned) => {
      const wanted = planned.proxyConfigs.flatMap((c) => c.ports.map((p) => p.port));
      if (wanted.includes(taken)) {
        refusedSets.push(wanted);
        const before = JSON.stringify(learned);
        (learned[gateway] ??= {})[taken] = `cannot listen on 127.0.0.1:${taken}: EADDRINUSE`;
        return { learnedUnavailablePorts: JSON.stringify(learned) !== before };
      }
      for (const config of planned.proxyConfigs) served.set(`${config.gateway.namespace}/${config.gateway.name}`, config.version);
      return { learnedUnavailablePorts: false };
    },
    settle: ({ unavailablePorts }) => {
      const runtime: Record<string, GatewayRuntime> = { [gateway]: { addresses: [address], acknowledgedVersion: served.get(gateway)! } };
      return translate({ snapshot, now, runtime, unavailablePorts });
    },
  });

  assert.deepEqual(refusedSets, [ports], 'the full config was tried first, and refused once');
  assert.deepEqual(output.proxyConfigs[0]!.ports.map((p) => p.port), ports.slice(1));
  assert.equal(served.get(gateway), output.proxyConfigs[0]!.version, 'the settled config is the one the data plane serves');
  const status = output.gateways[0]!.status;
  const refusedListener = status.listeners!.find((l) => l.conditions.some((c) => c.reason === 'PortUnavailable'))!;
  assert.match(refusedListener.conditions.find((c) => c.type === 'Accepted')!.message, new RegExp(`port ${taken} is unavailable: cannot listen on 127\\.0\\.0\\.1:${taken}: EADDRINUSE$`));
  const onTakenPort = snapshot.gateways[0]!.spec.listeners.filter((l) => l.port === taken).map((l) => l.name).sort();
  const unavailable = status.listeners!.filter((l) => l.conditions.some((c) => c.reason === 'PortUnavailable')).map((l) => l.name).sort();
  assert.deepEqual(unavailable, onTakenPort, 'exactly the listeners on the refused port');
  const programmed = status.conditions!.find((c) => c.type === 'Programmed')!;
  assert.equal(programmed.status, 'True', 'the rest of the Gateway is served and acknowledged');
});

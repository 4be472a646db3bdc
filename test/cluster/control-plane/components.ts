// Command lines of the control-plane components, in one place so docs/test-cluster.md can
// point at them. Flags follow controller-runtime's envtest and hack/local-up-cluster.sh.
import path from 'node:path';
import type { Pki } from './pki.js';
import { etcdDataDir, podNetwork } from '../state.js';

export function etcdArgs(clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=default', `--data-dir=${etcdDataDir}`,
    // Test data is disposable; fsync only costs time on a shared 2-core machine.
    '--unsafe-no-fsync',
    `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    '--log-level=warn',
  ];
}

export function apiserverArgs(pki: Pki, port: number, etcdClientPort: number, certDir: string): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
    // Required on hosts with no default route; also what the `kubernetes` Service points at.
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
    // With a loopback advertise address the `kubernetes` Endpoints fail validation every 10 s
    // ("may not be in the loopback range"); the node agent relays that Service itself.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${pki.apiserverCert}`, `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--token-auth-file=${pki.tokensCsv}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--authorization-mode=RBAC',
    `--service-cluster-ip-range=${podNetwork.serviceCidr}`,
    '--allow-privileged=true',
    // Less background work on a 2-core machine; APF protects nothing in a test cluster.
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    // kubectl logs/exec/port-forward dial the Node's address. A kubelet reports its node name
    // as a Hostname address first, which nothing here resolves; InternalIP is its veth address.
    '--kubelet-preferred-address-types=InternalIP,Hostname',
  ];
}

export const controllers = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'deployment-controller',
  'replicaset-controller',
  'endpointslice-controller',
  'endpoints-controller',
  'disruption-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

export function controllerManagerArgs(pki: Pki, kubeconfig: string, certDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    `--controllers=${controllers.join(',')}`,
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--use-service-account-credentials=false',
    // No serving port: readiness is judged by its effects (a new namespace gets its SA).
    '--bind-address=127.0.0.1', '--secure-port=0',
    `--cert-dir=${path.join(certDir, 'kcm')}`,
  ];
}

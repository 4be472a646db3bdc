// The v1.6.1 ListenerSet CRD's schema and CEL rules (spec.parentRef, and spec.listeners whose
// rules repeat the Gateway's), and the checks no schema can make because they need the parent
// Gateway: does it allow this ListenerSet, and do the set's listeners conflict with the
// Gateway's own or with another set of the same app on the same Gateway (GEP-1713: the
// Gateway's listeners win, then the oldest set, so a conflicting listener would not be served).
import type { GatewaySpecListeners } from '../../../imports/gwapi-gateway.networking.k8s.io.js';
import { validateListenerList } from './gateway-rules.js';
import { IssueCollector, type ValidationIssue } from './issues.js';
import { GROUP, KIND, NAMESPACE } from './patterns.js';

export interface ListenerSetParentRefSpec {
  readonly group?: string;
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface ListenerSetSpecView {
  readonly parentRef: ListenerSetParentRefSpec;
  readonly listeners: readonly GatewaySpecListeners[];
}

export function validateListenerSetSpec(spec: ListenerSetSpecView): ValidationIssue[] {
  const c = new IssueCollector();
  const ref = spec.parentRef;
  if (c.required('spec.parentRef', ref, 'set parent to the Gateway construct or {name, namespace} of the Gateway')) {
    c.string('spec.parentRef.group', ref.group, { maxLength: 253, pattern: GROUP, patternName: 'empty or an RFC 1123 subdomain' });
    c.string('spec.parentRef.kind', ref.kind, { minLength: 1, maxLength: 63, pattern: KIND, patternName: 'a Kind name' });
    if (c.required('spec.parentRef.name', ref.name, 'name the parent Gateway')) c.string('spec.parentRef.name', ref.name, { minLength: 1, maxLength: 253 });
    c.string('spec.parentRef.namespace', ref.namespace, { minLength: 1, maxLength: 63, pattern: NAMESPACE, patternName: 'an RFC 1123 label' });
  }
  if (c.required('spec.listeners', spec.listeners, 'add at least one listener')) validateListenerList(c, spec.listeners);
  return c.issues;
}

/** The parent Gateway as the checks below see it. */
export interface ListenerSetParentView {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly allowedListeners: { readonly from: string; readonly selector?: { matchLabels?: Readonly<Record<string, string>>; matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[] } };
  readonly listeners: readonly GatewaySpecListeners[];
}

/**
 * Does the parent allow a ListenerSet from `namespace`? Unknown namespaces (undefined) or
 * namespaces whose labels the app does not define get the benefit of the doubt.
 */
export function checkParentAllows(parent: ListenerSetParentView, namespace: string | undefined, namespaceLabels: () => Readonly<Record<string, string>> | undefined): ValidationIssue | undefined {
  const gw = `Gateway "${parent.namespace ? `${parent.namespace}/` : ''}${parent.name}"`;
  const { from, selector } = parent.allowedListeners;
  if (from === 'All') return undefined;
  if (from === 'Same') {
    if (namespace === undefined || parent.namespace === undefined || namespace === parent.namespace) return undefined;
    return {
      field: 'spec.parentRef',
      message: `${gw} allows ListenerSets from its own namespace only (allowedListeners from: Same), and this one is in namespace "${namespace}"; it would be Accepted=False/NotAllowed`,
      fix: "give the Gateway allowedListeners { from: 'All' } or a selector matching this namespace, or move the ListenerSet",
    };
  }
  if (from === 'Selector') {
    const labels = namespaceLabels();
    if (labels === undefined || labelsMatch(selector ?? {}, labels)) return undefined;
    return {
      field: 'spec.parentRef',
      message: `${gw} allows ListenerSets from namespaces matching ${JSON.stringify(selector ?? {})}, and namespace "${namespace}" does not match; it would be Accepted=False/NotAllowed`,
      fix: "label the namespace to match the Gateway's allowedListeners selector",
    };
  }
  return {
    field: 'spec.parentRef',
    message: `${gw} does not allow ListenerSets (allowedListeners ${from === 'None' ? 'is None, the default' : `from "${from}"`}); this one would be Accepted=False/NotAllowed`,
    fix: "give the Gateway allowedListeners, e.g. { from: 'Same' } or a namespace selector",
  };
}

function labelsMatch(
  selector: { matchLabels?: Readonly<Record<string, string>>; matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[] },
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(labels[e.key]!) :
      e.operator === 'NotIn' ? !has || !values.includes(labels[e.key]!) :
      e.operator === 'Exists' ? has :
      e.operator === 'DoesNotExist' ? !has : false;
    if (!ok) return false;
  }
  return true;
}

/** How connections on a port start: listeners may share a port only when this is equal. */
function wireFormat(protocol: string): string {
  return protocol === 'TLS' || protocol === 'HTTPS' ? 'clienthello' : protocol;
}

/**
 * The set's listeners against listeners that take precedence (the Gateway's own, and other
 * sets of this app on the same Gateway, named by `owner`): a conflict means this listener
 * would be Conflicted and not served.
 */
export function checkConflictsWith(listeners: readonly GatewaySpecListeners[], others: readonly { owner: string; listener: GatewaySpecListeners }[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  listeners.forEach((l, i) => {
    if (l.protocol === 'UDP') return;
    const samePort = others.filter((o) => o.listener.port === l.port && o.listener.protocol !== 'UDP');
    const protocol = samePort.find((o) => wireFormat(o.listener.protocol) !== wireFormat(l.protocol) || l.protocol === 'TCP');
    if (protocol) {
      issues.push({
        field: `spec.listeners[${i}].port`,
        message: `listener "${l.name}" (${l.protocol}) shares port ${l.port} with listener "${protocol.listener.name}" (${protocol.listener.protocol}) of ${protocol.owner}, and the two protocols cannot share a port; the ListenerSet's listener would be Conflicted (ProtocolConflict) and not served`,
        fix: 'move the listener to another port',
      });
      return;
    }
    const hostname = (l.hostname ?? '').toLowerCase();
    const same = samePort.find((o) => (o.listener.hostname ?? '').toLowerCase() === hostname);
    if (same) {
      issues.push({
        field: `spec.listeners[${i}].hostname`,
        message: `listener "${l.name}" has port ${l.port} and ${hostname === '' ? 'no hostname' : `hostname "${hostname}"`} like listener "${same.listener.name}" of ${same.owner}; the ListenerSet's listener would be Conflicted (HostnameConflict) and not served`,
        fix: 'use another hostname or port',
      });
    }
  });
  return issues;
}

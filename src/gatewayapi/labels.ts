/** Kubernetes label selector semantics (metav1.LabelSelector), for allowedRoutes `Selector`. */
import { objects, stringMap, strings } from './safe.js';
import type { LabelSelector } from './types.js';

/**
 * True when `labels` satisfy every matchLabels entry and every matchExpression. An empty
 * selector matches everything; an unknown operator matches nothing (fail closed).
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (typeof selector !== 'object' || selector === null) return false;
  for (const [key, value] of Object.entries(stringMap(selector.matchLabels))) {
    if (labels[key] !== value) return false;
  }
  for (const expr of objects(selector.matchExpressions)) {
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const values = strings(expr.values);
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[expr.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expr.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

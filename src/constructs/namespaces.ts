// Namespaces as the constructs know them at synth time. An object's namespace is its
// metadata.namespace, else its Chart's namespace, else unknown (`undefined`: kubectl will
// put it in the namespace of the apply context). Two unknown namespaces are treated as the
// same one, which is what happens when such an app is applied.
import type { Construct } from 'constructs';

/**
 * The namespace to write into a reference from `ownerNamespace` to `targetNamespace`:
 * omitted when it is the owner's own (so the references read like hand-written YAML),
 * explicit otherwise.
 */
export function referenceNamespace(ownerNamespace: string | undefined, targetNamespace: string | undefined): string | undefined {
  return targetNamespace !== undefined && targetNamespace !== ownerNamespace ? targetNamespace : undefined;
}

/** Every construct of a given class in the app that `scope` belongs to. */
export function findInApp<T>(scope: Construct, type: abstract new (...args: never[]) => T): T[] {
  return scope.node.root.node.findAll().filter((c): c is T & Construct => c instanceof type);
}

/**
 * One problem found at synth time. `field` is the path inside the object as the API server
 * would name it (`spec.listeners[1].tls.mode`), `message` says what is wrong (for CRD rules
 * the CRD's own CEL message, verbatim, so that users can search for it), `fix` says what to
 * change. The construct that owns the object adds its construct path when it reports.
 */
export interface ValidationIssue {
  readonly field: string;
  readonly message: string;
  readonly fix: string;
}

/** Renders an issue the way the constructs report it: field, problem, fix. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.field}: ${issue.message}. Fix: ${issue.fix}`;
}

export interface StringRule {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  /** Human words for the pattern, e.g. "an RFC 1123 DNS label". */
  readonly patternName?: string;
}

/**
 * Collects issues for one object. The helpers mirror the openAPIV3Schema keywords the
 * Gateway API CRDs use (minLength/maxLength/pattern, minimum/maximum, minItems/maxItems,
 * maxProperties, enum, required) so that every schema rule has one obvious check.
 */
export class IssueCollector {
  readonly issues: ValidationIssue[] = [];

  add(field: string, message: string, fix: string): void {
    this.issues.push({ field, message, fix });
  }

  /** `required`: the field must be present. Returns whether it is. */
  required(field: string, value: unknown, fix: string): boolean {
    if (value === undefined || value === null) {
      this.add(field, 'Required value', fix);
      return false;
    }
    return true;
  }

  /** Checks a string against its schema rules; an absent value passes (use `required`). */
  string(field: string, value: unknown, rule: StringRule): void {
    if (value === undefined) return;
    if (typeof value !== 'string') {
      this.add(field, `must be a string, got ${describe(value)}`, 'give a string value');
      return;
    }
    if (rule.minLength !== undefined && value.length < rule.minLength) {
      this.add(field, `must have at least ${rule.minLength} character(s), got "${value}"`, 'give a non-empty value or leave the field out');
    }
    if (rule.maxLength !== undefined && value.length > rule.maxLength) {
      this.add(field, `must have at most ${rule.maxLength} characters, got ${value.length}`, `shorten it to ${rule.maxLength} characters`);
    }
    if (rule.pattern && value.length > 0 && !rule.pattern.test(value)) {
      const what = rule.patternName ? `${rule.patternName} (pattern ${rule.pattern.source})` : `the pattern ${rule.pattern.source}`;
      this.add(field, `"${value}" must be ${what}`, 'use only the characters and form the pattern allows');
    }
  }

  /** Checks an int32 field with minimum/maximum; an absent value passes. */
  integer(field: string, value: unknown, min: number, max: number): void {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add(field, `must be an integer, got ${describe(value)}`, `give a whole number from ${min} to ${max}`);
      return;
    }
    if (value < min || value > max) {
      this.add(field, `must be between ${min} and ${max}, got ${value}`, `give a value from ${min} to ${max}`);
    }
  }

  /** minItems/maxItems on a list; an absent list counts as empty only when `min` > 0 is asked. */
  count(field: string, list: readonly unknown[] | undefined, min: number, max: number, what: string): void {
    const n = list?.length ?? 0;
    if (list === undefined && min === 0) return;
    if (n < min) this.add(field, `must have at least ${min} ${what}, got ${n}`, `add ${min === 1 ? 'one' : `at least ${min}`} ${what}`);
    if (n > max) this.add(field, `must have at most ${max} ${what}, got ${n}`, `remove ${n - max} ${what} or split them over several objects`);
  }

  /** maxProperties on a map. */
  properties(field: string, map: Readonly<Record<string, unknown>> | undefined, max: number, what: string): void {
    const n = map ? Object.keys(map).length : 0;
    if (n > max) this.add(field, `must have at most ${max} ${what}, got ${n}`, `remove ${n - max} ${what}`);
  }

  /** enum: the value must be one of `allowed`; an absent value passes. */
  allowedValue(field: string, value: unknown, allowed: readonly string[]): void {
    if (value === undefined) return;
    if (typeof value !== 'string' || !allowed.includes(value)) {
      this.add(field, `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`, `use one of ${allowed.join(', ')}`);
    }
  }
}

function describe(value: unknown): string {
  return value === null ? 'null' : `${typeof value} ${JSON.stringify(value)}`;
}

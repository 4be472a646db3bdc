// Most-specific-hostname lookup, precomputed once per config: an exact-name Map, a Map of
// wildcard suffixes, and an optional catch-all. A lookup walks the SNI's label boundaries
// from the left, so the first wildcard found is the longest (most specific) one; no regexes,
// no allocation beyond the substring keys.
//
// Wildcards follow Gateway API routing semantics: `*.example.com` matches any name ending in
// `.example.com` with one or more labels before it (never `example.com` itself).

export class HostnameTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcard = new Map<string, T>();
  private catchAll: T | undefined;

  /** Adds a pattern; the first value added for a pattern wins (callers add in precedence order). */
  add(pattern: string | null, value: T): void {
    if (pattern === null || pattern === '*') {
      if (this.catchAll === undefined) this.catchAll = value;
    } else if (pattern.startsWith('*.')) {
      const suffix = pattern.slice(2);
      if (!this.wildcard.has(suffix)) this.wildcard.set(suffix, value);
    } else if (!this.exact.has(pattern)) {
      this.exact.set(pattern, value);
    }
  }

  lookup(name: string): T | undefined {
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    if (this.wildcard.size > 0) {
      // From index 1: the wildcard must cover at least one non-empty label.
      let dot = name.indexOf('.', 1);
      while (dot !== -1 && dot < name.length - 1) {
        const found = this.wildcard.get(name.slice(dot + 1));
        if (found !== undefined) return found;
        dot = name.indexOf('.', dot + 1);
      }
    }
    return this.catchAll;
  }
}

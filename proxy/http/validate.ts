// Structural checks of a listener's `http` part (src/proxy-config.ts, "HTTP (HTTPRoute)"),
// called by proxy/validate.ts. Every problem names the field, e.g.
// `ports[0].listeners[1] (web).http.routes[0].rules[2].filters[0].statusCode: …`.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const HOSTNAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function regexProblem(source: string, at: string): string | null {
  try {
    new RegExp(`^(?:${source})$`);
    return null;
  } catch (err) {
    return `${at}: invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`;
  }
}

function headerValuesProblem(list: unknown, at: string): string | null {
  if (!Array.isArray(list)) return `${at}: must be an array`;
  for (let i = 0; i < list.length; i++) {
    const h = list[i] as unknown;
    if (!isObject(h) || typeof h.name !== 'string' || !HEADER_NAME.test(h.name) || typeof h.value !== 'string') {
      return `${at}[${i}]: must be {name: a header name, value: string}, got ${JSON.stringify(h)}`;
    }
    if (/[\r\n\0]/.test(h.value)) return `${at}[${i}].value: must not contain CR, LF or NUL`;
  }
  return null;
}

function pathModifierProblem(path: unknown, at: string): string | null {
  if (path === undefined) return null;
  if (!isObject(path) || (path.type !== 'ReplaceFullPath' && path.type !== 'ReplacePrefixMatch')) return `${at}.type: must be ReplaceFullPath or ReplacePrefixMatch`;
  if (typeof path.value !== 'string' || (path.value !== '' && !path.value.startsWith('/'))) return `${at}.value: must be a path starting with /, got ${JSON.stringify(path.value)}`;
  return null;
}

function hostnameFieldProblem(hostname: unknown, at: string): string | null {
  if (hostname === undefined) return null;
  if (typeof hostname !== 'string' || hostname.startsWith('*') || !HOSTNAME.test(hostname.toLowerCase())) return `${at}: must be a hostname, got ${JSON.stringify(hostname)}`;
  return null;
}

export function filterProblem(filter: unknown, at: string, perBackend: boolean): string | null {
  if (!isObject(filter)) return `${at}: must be an object`;
  switch (filter.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const set = headerValuesProblem(filter.set, `${at}.set`) ?? headerValuesProblem(filter.add, `${at}.add`);
      if (set !== null) return set;
      if (!Array.isArray(filter.remove) || !filter.remove.every((n) => typeof n === 'string' && HEADER_NAME.test(n))) return `${at}.remove: must be an array of header names`;
      return null;
    }
    case 'RequestRedirect':
      if (perBackend) return `${at}.type: RequestRedirect is a rule filter, not a backend filter`;
      if (filter.scheme !== undefined && filter.scheme !== 'http' && filter.scheme !== 'https') return `${at}.scheme: must be http or https, got ${JSON.stringify(filter.scheme)}`;
      if (filter.port !== undefined && (typeof filter.port !== 'number' || !Number.isInteger(filter.port) || filter.port < 1 || filter.port > 65535)) {
        return `${at}.port: must be an integer 1..65535, got ${JSON.stringify(filter.port)}`;
      }
      if (typeof filter.statusCode !== 'number' || !REDIRECT_CODES.has(filter.statusCode)) return `${at}.statusCode: must be 301, 302, 303, 307 or 308, got ${JSON.stringify(filter.statusCode)}`;
      return hostnameFieldProblem(filter.hostname, `${at}.hostname`) ?? pathModifierProblem(filter.path, `${at}.path`);
    case 'URLRewrite':
      return hostnameFieldProblem(filter.hostname, `${at}.hostname`) ?? pathModifierProblem(filter.path, `${at}.path`);
    default:
      return `${at}.type: must be RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect or URLRewrite, got ${JSON.stringify(filter.type)}`;
  }
}

function filtersProblem(filters: unknown, at: string, perBackend: boolean): string | null {
  if (!Array.isArray(filters)) return `${at}: must be an array`;
  for (let f = 0; f < filters.length; f++) {
    const problem = filterProblem(filters[f], `${at}[${f}]`, perBackend);
    if (problem !== null) return problem;
  }
  return null;
}

function ruleProblem(rule: unknown, at: string, backendProblem: (backend: unknown, at: string) => string | null): string | null {
  if (!isObject(rule)) return `${at}: must be an object`;
  if (rule.name !== undefined && typeof rule.name !== 'string') return `${at}.name: must be a string`;
  const filters = filtersProblem(rule.filters, `${at}.filters`, false);
  if (filters !== null) return filters;
  if (!Array.isArray(rule.backends)) return `${at}.backends: must be an array`;
  for (let b = 0; b < rule.backends.length; b++) {
    const bat = `${at}.backends[${b}]`;
    const problem = backendProblem(rule.backends[b], bat);
    if (problem !== null) return problem;
    const backend = rule.backends[b] as Record<string, unknown>;
    if (backend.filters !== undefined) {
      const fp = filtersProblem(backend.filters, `${bat}.filters`, true);
      if (fp !== null) return fp;
    }
  }
  if (rule.timeouts !== undefined) {
    if (!isObject(rule.timeouts)) return `${at}.timeouts: must be an object`;
    for (const field of ['requestMs', 'backendRequestMs'] as const) {
      const value = rule.timeouts[field];
      if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1)) {
        return `${at}.timeouts.${field}: must be an integer 0..${2 ** 31 - 1}, got ${JSON.stringify(value)}`;
      }
    }
  }
  return null;
}

function valueMatchesProblem(list: unknown, at: string): string | null {
  if (!Array.isArray(list)) return `${at}: must be an array`;
  for (let i = 0; i < list.length; i++) {
    const m = list[i] as unknown;
    const mat = `${at}[${i}]`;
    if (!isObject(m) || (m.type !== 'Exact' && m.type !== 'RegularExpression')) return `${mat}.type: must be Exact or RegularExpression`;
    if (typeof m.name !== 'string' || m.name === '') return `${mat}.name: must be a non-empty string`;
    if (typeof m.value !== 'string') return `${mat}.value: must be a string`;
    if (m.type === 'RegularExpression') {
      const problem = regexProblem(m.value, `${mat}.value`);
      if (problem !== null) return problem;
    }
  }
  return null;
}

function matchProblem(match: unknown, at: string): string | null {
  if (!isObject(match)) return `${at}: must be an object`;
  const path = match.path;
  if (!isObject(path) || (path.type !== 'Exact' && path.type !== 'PathPrefix' && path.type !== 'RegularExpression')) return `${at}.path.type: must be Exact, PathPrefix or RegularExpression`;
  if (typeof path.value !== 'string') return `${at}.path.value: must be a string`;
  if (path.type === 'RegularExpression') {
    const problem = regexProblem(path.value, `${at}.path.value`);
    if (problem !== null) return problem;
  } else if (!path.value.startsWith('/')) return `${at}.path.value: must start with /, got ${JSON.stringify(path.value)}`;
  const headers = valueMatchesProblem(match.headers, `${at}.headers`) ?? valueMatchesProblem(match.queryParams, `${at}.queryParams`);
  if (headers !== null) return headers;
  if (match.method !== undefined && (typeof match.method !== 'string' || !/^[A-Z]+$/.test(match.method))) return `${at}.method: must be an uppercase method, got ${JSON.stringify(match.method)}`;
  return null;
}

/** The `http` part of an HTTP or HTTPS listener; `backendProblem` is the TLS routes' backend check. */
export function httpListenerProblem(http: unknown, at: string, backendProblem: (backend: unknown, at: string) => string | null): string | null {
  if (!isObject(http)) return `${at}: must be an object`;
  if (!Array.isArray(http.routes)) return `${at}.routes: must be an array`;
  const routes = http.routes as unknown[];
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r];
    const rat = `${at}.routes[${r}]`;
    if (!isObject(route) || typeof route.namespace !== 'string' || typeof route.name !== 'string') return `${rat}: namespace and name must be strings`;
    if (!Array.isArray(route.rules)) return `${rat}.rules: must be an array`;
    for (let u = 0; u < route.rules.length; u++) {
      const problem = ruleProblem(route.rules[u], `${rat}.rules[${u}]`, backendProblem);
      if (problem !== null) return problem;
    }
  }
  if (!Array.isArray(http.virtualHosts)) return `${at}.virtualHosts: must be an array`;
  for (let v = 0; v < http.virtualHosts.length; v++) {
    const vhost = http.virtualHosts[v] as unknown;
    const vat = `${at}.virtualHosts[${v}]`;
    if (!isObject(vhost)) return `${vat}: must be an object`;
    if (typeof vhost.hostname !== 'string' || (vhost.hostname !== '*' && !HOSTNAME.test(vhost.hostname))) return `${vat}.hostname: must be a lowercase hostname, *.suffix or *, got ${JSON.stringify(vhost.hostname)}`;
    if (!Array.isArray(vhost.matches)) return `${vat}.matches: must be an array`;
    for (let m = 0; m < vhost.matches.length; m++) {
      const entry = vhost.matches[m] as unknown;
      const mat = `${vat}.matches[${m}]`;
      if (!isObject(entry)) return `${mat}: must be an object`;
      if (typeof entry.route !== 'number' || !Number.isInteger(entry.route) || entry.route < 0 || entry.route >= routes.length) {
        return `${mat}.route: must index http.routes (0..${routes.length - 1}), got ${JSON.stringify(entry.route)}`;
      }
      const rules = (routes[entry.route] as { rules: unknown[] }).rules;
      if (typeof entry.rule !== 'number' || !Number.isInteger(entry.rule) || entry.rule < 0 || entry.rule >= rules.length) {
        return `${mat}.rule: must index http.routes[${entry.route}].rules (0..${rules.length - 1}), got ${JSON.stringify(entry.rule)}`;
      }
      const problem = matchProblem(entry.match, `${mat}.match`);
      if (problem !== null) return problem;
    }
  }
  return null;
}

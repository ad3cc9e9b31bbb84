// Compiles networking.k8s.io/v1 Ingress objects into a router and matches
// requests against it. Pure. The matching rules follow upstream's spec and
// ingress-nginx where the spec leaves room:
//   - host: exact, or "*.example.com" matching exactly one more leading label;
//     rules without a host match any host. A request tries exact-host rules,
//     then wildcard rules, then host-less rules, then the defaultBackend.
//   - path: Exact compares the whole path; Prefix (and ImplementationSpecific,
//     treated as Prefix) compares '/'-separated elements, so /foo matches /foo
//     and /foo/bar but not /foobar; among matches the longest path wins, Exact
//     before Prefix on a tie, then the older Ingress.
//   - nginx.ingress.kubernetes.io/use-regex: "true" makes paths regular
//     expressions anchored at the start, case-insensitive, as nginx's "~*";
//     a rewrite-target holding $1..$9 implies it (as in ingress-nginx).
//   - nginx.ingress.kubernetes.io/rewrite-target: with capture references the
//     target replaces the whole path ($n filled from the match); without, it
//     replaces the matched part ("/" for path /app turns /app/x into /x).
import type { Ingress, IngressBackend, PathType, ServiceBackendPort } from '@kube-lite/api';

export const REWRITE_TARGET_ANNOTATION = 'nginx.ingress.kubernetes.io/rewrite-target';
export const USE_REGEX_ANNOTATION = 'nginx.ingress.kubernetes.io/use-regex';
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** A Service port an Ingress sends traffic to. */
export interface BackendRef {
  namespace: string;
  serviceName: string;
  port: ServiceBackendPort;
}

export function backendKey(backend: BackendRef): string {
  const port = backend.port.name !== undefined && backend.port.name !== '' ? backend.port.name : String(backend.port.number ?? '');
  return `${backend.namespace}/${backend.serviceName}:${port}`;
}

export interface Route {
  /** "ns/name" of the Ingress the route came from. */
  ingress: string;
  host: string | undefined;
  path: string;
  pathType: PathType;
  /** Set when the path is a regular expression. */
  pattern: RegExp | undefined;
  rewriteTarget: string | undefined;
  backend: BackendRef;
}

export interface RouteMatch {
  route: Route;
  /** The path (with query) to send to the backend after any rewrite. */
  upstreamPath: string;
}

/** An Ingress part that could not be served, for logs and events. */
export interface RouteProblem {
  ingress: string;
  message: string;
}

export interface RouterOptions {
  /** Serve only Ingresses of this class (spec.ingressClassName or the legacy annotation) and those naming none; all when absent. */
  ingressClassName?: string;
}

const CAPTURE_REFERENCE = /\$[1-9]/;

function ingressKey(ingress: Ingress): string {
  return `${ingress.metadata?.namespace ?? 'default'}/${ingress.metadata?.name ?? ''}`;
}

function pathElements(path: string): string[] {
  return path.split('/').filter((element) => element !== '');
}

/** Element-wise prefix match; returns the length of `requestPath` consumed, or -1. */
function prefixMatchLength(prefix: string, requestPath: string): number {
  const want = pathElements(prefix);
  const have = requestPath.split('/');
  // have[0] is '' for an absolute path; walk elements keeping character offsets.
  let consumed = 0;
  let index = 1;
  for (const element of want) {
    while (index < have.length && have[index] === '') {
      consumed += 1;
      index++;
    }
    if (have[index] !== element) return -1;
    consumed += 1 + element.length;
    index++;
  }
  return consumed;
}

/** Upstream host matching: "*.foo.com" covers "bar.foo.com" only (one label). */
export function hostMatches(ruleHost: string | undefined, requestHost: string): boolean {
  if (ruleHost === undefined || ruleHost === '') return true;
  const host = ruleHost.toLowerCase();
  if (!host.startsWith('*.')) return host === requestHost;
  const suffix = host.slice(1);
  if (!requestHost.endsWith(suffix)) return false;
  const label = requestHost.slice(0, requestHost.length - suffix.length);
  return label !== '' && !label.includes('.');
}

/** The Host header without its port, lower-cased ("[::1]:80" -> "::1"). */
export function requestHostName(hostHeader: string | undefined): string {
  const host = (hostHeader ?? '').trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') >= 0 ? host.indexOf(']') : undefined);
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

function joinPath(target: string, rest: string): string {
  if (rest === '') return target === '' ? '/' : target;
  if (target.endsWith('/') && rest.startsWith('/')) return target + rest.slice(1);
  if (!target.endsWith('/') && !rest.startsWith('/')) return `${target}/${rest}`;
  return target + rest;
}

function hostClass(host: string | undefined): number {
  if (host === undefined || host === '') return 2;
  return host.startsWith('*.') ? 1 : 0;
}

export class IngressRouter {
  readonly routes: readonly Route[];
  readonly defaultBackend: { ingress: string; backend: BackendRef } | undefined;
  readonly problems: readonly RouteProblem[];

  constructor(ingresses: readonly Ingress[], options: RouterOptions = {}) {
    const routes: Route[] = [];
    const problems: RouteProblem[] = [];
    let defaultBackend: IngressRouter['defaultBackend'];
    // Oldest first, so "the older Ingress wins a tie" is just a stable sort.
    const ordered = [...ingresses].sort((a, b) => {
      const at = a.metadata?.creationTimestamp ?? '';
      const bt = b.metadata?.creationTimestamp ?? '';
      return at !== bt ? (at < bt ? -1 : 1) : ingressKey(a) < ingressKey(b) ? -1 : ingressKey(a) > ingressKey(b) ? 1 : 0;
    });
    for (const ingress of ordered) {
      if (!this.servesClass(ingress, options.ingressClassName)) continue;
      const key = ingressKey(ingress);
      const namespace = ingress.metadata?.namespace ?? 'default';
      const annotations = ingress.metadata?.annotations ?? {};
      const rewriteTarget = annotations[REWRITE_TARGET_ANNOTATION];
      const useRegex = annotations[USE_REGEX_ANNOTATION] === 'true' || (rewriteTarget !== undefined && CAPTURE_REFERENCE.test(rewriteTarget));
      const toRef = (backend: IngressBackend, where: string): BackendRef | undefined => {
        if (!backend.service) {
          problems.push({ ingress: key, message: `${where}: only service backends are supported (resource backends are not)` });
          return undefined;
        }
        const port = backend.service.port ?? {};
        if (port.number === undefined && (port.name === undefined || port.name === '')) {
          problems.push({ ingress: key, message: `${where}: service.port needs a number or a name` });
          return undefined;
        }
        return { namespace, serviceName: backend.service.name, port };
      };
      if (ingress.spec?.defaultBackend && defaultBackend === undefined) {
        const backend = toRef(ingress.spec.defaultBackend, 'spec.defaultBackend');
        if (backend) defaultBackend = { ingress: key, backend };
      }
      (ingress.spec?.rules ?? []).forEach((rule, ruleIndex) => {
        (rule.http?.paths ?? []).forEach((httpPath, pathIndex) => {
          const where = `spec.rules[${ruleIndex}].http.paths[${pathIndex}]`;
          const backend = toRef(httpPath.backend, `${where}.backend`);
          if (!backend) return;
          const path = httpPath.path ?? '/';
          const pathType = httpPath.pathType ?? 'ImplementationSpecific';
          let pattern: RegExp | undefined;
          if (useRegex && pathType !== 'Exact') {
            try {
              pattern = new RegExp(`^(?:${path})`, 'i');
            } catch (error) {
              problems.push({ ingress: key, message: `${where}.path: ${JSON.stringify(path)} is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}` });
              return;
            }
          } else if (!path.startsWith('/')) {
            problems.push({ ingress: key, message: `${where}.path: ${JSON.stringify(path)} must start with "/"` });
            return;
          }
          routes.push({ ingress: key, host: rule.host?.toLowerCase() || undefined, path, pathType, pattern, rewriteTarget, backend });
        });
      });
    }
    // Stable: within equal keys the older Ingress (earlier in `ordered`) stays first.
    routes.sort((a, b) => hostClass(a.host) - hostClass(b.host) || b.path.length - a.path.length || Number(b.pathType === 'Exact') - Number(a.pathType === 'Exact'));
    this.routes = routes;
    this.defaultBackend = defaultBackend;
    this.problems = problems;
  }

  /** Every Service port the router can send to (for resolving endpoints ahead of requests). */
  backends(): BackendRef[] {
    const found = new Map<string, BackendRef>();
    for (const route of this.routes) found.set(backendKey(route.backend), route.backend);
    if (this.defaultBackend) found.set(backendKey(this.defaultBackend.backend), this.defaultBackend.backend);
    return [...found.values()];
  }

  /** The route for a request, or undefined (a 404). `target` is the request-target: path plus optional query. */
  match(hostHeader: string | undefined, target: string): RouteMatch | undefined {
    const host = requestHostName(hostHeader);
    const queryStart = target.indexOf('?');
    const path = queryStart >= 0 ? target.slice(0, queryStart) : target;
    const query = queryStart >= 0 ? target.slice(queryStart) : '';
    for (const route of this.routes) {
      if (!hostMatches(route.host, host)) continue;
      const upstream = this.matchPath(route, path);
      if (upstream !== undefined) return { route, upstreamPath: upstream + query };
    }
    if (this.defaultBackend) {
      const { ingress, backend } = this.defaultBackend;
      return { route: { ingress, host: undefined, path: '/', pathType: 'Prefix', pattern: undefined, rewriteTarget: undefined, backend }, upstreamPath: target };
    }
    return undefined;
  }

  /** The rewritten path when `route` matches `path`, else undefined. */
  private matchPath(route: Route, path: string): string | undefined {
    const target = route.rewriteTarget;
    if (route.pathType === 'Exact') {
      if (path !== route.path) return undefined;
      return target === undefined ? path : joinPath(target, '');
    }
    if (route.pattern) {
      const found = route.pattern.exec(path);
      if (!found) return undefined;
      if (target === undefined) return path;
      if (CAPTURE_REFERENCE.test(target)) return target.replace(/\$([1-9])/g, (_, digit: string) => found[Number(digit)] ?? '') || '/';
      return joinPath(target, path.slice(found[0].length));
    }
    const consumed = prefixMatchLength(route.path, path);
    if (consumed < 0) return undefined;
    return target === undefined ? path : joinPath(target, path.slice(consumed));
  }

  private servesClass(ingress: Ingress, className: string | undefined): boolean {
    if (className === undefined) return true;
    const named = ingress.spec?.ingressClassName ?? ingress.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
    return named === undefined || named === className;
  }
}

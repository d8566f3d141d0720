// Request paths for authorization: normalization (so an encoded or dotted path can't dodge a DENY) and
// the `paths` patterns: exact, `prefix*`, `*suffix`, `*`, and the `{*}` / `{**}` templates.

/**
 * Mesh `pathNormalization`: NONE leaves the path alone; BASE decodes unreserved percent-encodings,
 * turns `\` into `/` and resolves dot segments (RFC 3986); MERGE_SLASHES also merges `//`.
 */
export type PathNormalization = "NONE" | "BASE" | "MERGE_SLASHES";

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Decodes only unreserved characters (%2E → `.`, %7E → `~`); `%2F` and friends stay encoded. */
function decodeUnreserved(p: string): string {
  return p.replace(/%([0-9A-Fa-f]{2})/g, (whole, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : whole.toUpperCase();
  });
}

/** RFC 3986 §5.2.4 remove_dot_segments, on an absolute path. */
function removeDotSegments(p: string): string {
  const out: string[] = [];
  const segs = p.split("/");
  // segs[0] is "" for an absolute path.
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i] ?? "";
    const last = i === segs.length - 1;
    if (s === ".") {
      if (last) out.push("");
    } else if (s === "..") {
      out.pop();
      if (last) out.push("");
    } else out.push(s);
  }
  return "/" + out.join("/");
}

/** Strips the query and fragment: `paths` never see `?a=b` (Envoy matches `url_path`). */
export function stripQuery(path: string): string {
  const q = path.search(/[?#]/);
  return q < 0 ? path : path.slice(0, q);
}

/** Normalizes a request path the way the proxy does before authorization and routing. */
export function normalizePath(raw: string, mode: PathNormalization = "MERGE_SLASHES"): string {
  let p = stripQuery(raw);
  if (mode === "NONE") return p;
  p = decodeUnreserved(p).replace(/\\/g, "/");
  if (!p.startsWith("/")) p = "/" + p;
  if (mode === "MERGE_SLASHES") p = p.replace(/\/{2,}/g, "/");
  return removeDotSegments(p);
}

export type PathMatcher = (normalizedPath: string) => boolean;

// The last path split into segments: every template in a request's evaluation reads the same path.
let lastPath = "";
let lastSegments: string[] = [""];

function segmentsOf(path: string): string[] {
  if (path !== lastPath) {
    lastPath = path;
    lastSegments = path.split("/");
  }
  return lastSegments;
}

/** `{*}` = exactly one non-empty segment; `{**}` (last only) = the rest, zero or more segments. */
function compileTemplate(pattern: string): PathMatcher {
  const want = pattern.split("/");
  const rest = want[want.length - 1] === "{**}";
  const fixed = rest ? want.length - 1 : want.length;
  return (p) => {
    const got = segmentsOf(p);
    // With `{**}` the path needs at least the fixed segments plus one (possibly empty) for the rest.
    if (rest ? got.length < want.length : got.length !== want.length) return false;
    for (let i = 0; i < fixed; i++) {
      const w = want[i] as string;
      const g = got[i] as string;
      if (w === "{*}" ? g.length === 0 : w !== g) return false;
    }
    return true;
  };
}

/** Compiles one `paths` entry. */
export function compilePathMatch(pattern: string): PathMatcher {
  if (pattern.includes("{*}") || pattern.includes("{**}")) return compileTemplate(pattern);
  // `*` alone matches any non-empty path.
  if (pattern === "*") return (p) => p.length > 0;
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    return (p) => p.startsWith(prefix);
  }
  if (pattern.startsWith("*")) {
    const suffix = pattern.slice(1);
    return (p) => p.endsWith(suffix);
  }
  return (p) => p === pattern;
}

/** `paths` values are ORed. */
export function compilePathsAnyOf(patterns: readonly string[]): PathMatcher {
  const exact = new Set(patterns.filter((p) => !p.includes("*")));
  const others = patterns.filter((p) => p.includes("*")).map(compilePathMatch);
  const n = others.length;
  return (p) => {
    if (exact.size > 0 && exact.has(p)) return true;
    for (let i = 0; i < n; i++) if ((others[i] as PathMatcher)(p)) return true;
    return false;
  };
}

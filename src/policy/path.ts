// Request paths for authorization: normalization (so an encoded or dotted path can't dodge a DENY) and
// the `paths` patterns: exact, `prefix*`, `*suffix`, `*`, and the `{*}` / `{**}` templates.

/**
 * Mesh `pathNormalization`. NONE: only the query is dropped. BASE (the default): unreserved
 * percent-escapes decoded, `\` read as `/`, dot segments resolved (RFC 3986), every other escape and
 * `//` kept as sent. MERGE_SLASHES: BASE, then `//` merged. DECODE_AND_MERGE_SLASHES: `%2F` and `%5C`
 * decoded first, then MERGE_SLASHES.
 */
export type PathNormalization = "NONE" | "BASE" | "MERGE_SLASHES" | "DECODE_AND_MERGE_SLASHES";

export const PATH_NORMALIZATIONS: readonly PathNormalization[] = [
  "NONE",
  "BASE",
  "MERGE_SLASHES",
  "DECODE_AND_MERGE_SLASHES",
];

/** Istio's default when the mesh config names none. */
export const DEFAULT_PATH_NORMALIZATION: PathNormalization = "BASE";

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Decodes only unreserved characters (`%2E` → `.`, `%30` → `0`); other escapes stay exactly as sent. */
function decodeUnreserved(p: string): string {
  return p.replace(/%([0-9A-Fa-f]{2})/g, (whole, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    // BASE: `%2f` is not unreserved, so it stays `%2f` (case preserved, never decoded to `/`).
    return UNRESERVED.test(ch) ? ch : whole;
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
/** What BASE could change: escapes, backslashes, a segment starting with a dot. */
const BASE_WORK = /[%\\]|\/\./;
/** What the slash-merging modes could change as well. */
const MERGE_WORK = /[%\\]|\/\.|\/\//;

export function normalizePath(raw: string, mode: PathNormalization = DEFAULT_PATH_NORMALIZATION): string {
  let p = stripQuery(raw);
  if (mode === "NONE") return p;
  // Most paths have nothing to normalize: an absolute path with none of the above is returned as is.
  if (p.charCodeAt(0) === 47 && !(mode === "BASE" ? BASE_WORK : MERGE_WORK).test(p)) return p;
  // DECODE_AND_MERGE_SLASHES: encoded slashes and backslashes are decoded before anything else.
  if (mode === "DECODE_AND_MERGE_SLASHES") p = p.replace(/%2f/gi, "/").replace(/%5c/gi, "\\");
  // BASE: RFC 3986 normalization plus backslashes read as forward slashes.
  p = decodeUnreserved(p).replace(/\\/g, "/");
  if (!p.startsWith("/")) p = "/" + p;
  p = removeDotSegments(p);
  // MERGE_SLASHES (and DECODE_AND_MERGE_SLASHES): `//` merged after the BASE normalization.
  if (mode !== "BASE") p = p.replace(/\/{2,}/g, "/");
  return p;
}

export type PathMatcher = (normalizedPath: string) => boolean;

// What a template operator may match, as Envoy's URI template matcher reads it: RFC 3986 pchar
// (unreserved, pct-encoded, sub-delims without `*` and `=`, `:` and `@`); `{**}` also crosses `/`.
const PCHAR = "A-Za-z0-9\\-._~%!$&'()+,;:@";
const ONE_SEGMENT = `[${PCHAR}]+`;
const ANY_SEGMENTS = `[${PCHAR}/]*`;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * `{*}` = one non-empty segment; `{**}` = any text, slashes included, so `/foo/{**}` matches `/foo/`
 * and `/foo/a/b` but not `/foo`, and `/store/{**}/cart` matches `/store/a/b/cart`.
 */
function compileTemplate(pattern: string): PathMatcher {
  const source = pattern
    .split(/(\{\*\*\}|\{\*\})/)
    .map((part) => (part === "{**}" ? ANY_SEGMENTS : part === "{*}" ? ONE_SEGMENT : escapeRegex(part)))
    .join("");
  const re = new RegExp(`^${source}$`);
  return (p) => re.test(p);
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

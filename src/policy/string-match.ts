// Istio's string matching for policy values: exact, `prefix*`, `*suffix`, and `*` (any non-empty value).

export type StringMatcher = (value: string | undefined) => boolean;

export interface StringMatchOptions {
  ignoreCase?: boolean;
  /** When true, `*` also matches an empty value (e.g. header presence). Default: `*` needs a non-empty value. */
  starMatchesEmpty?: boolean;
}

/** Compiles one pattern; an undefined value (attribute absent) never matches. */
export function compileStringMatch(pattern: string, opts: StringMatchOptions = {}): StringMatcher {
  const fold = opts.ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  // `*` alone = presence: any value (Istio: "any authenticated" for principals, never plaintext).
  if (pattern === "*")
    return opts.starMatchesEmpty ? (v) => v !== undefined : (v) => v !== undefined && v !== "";
  // `prefix*` = prefix match; `*suffix` = suffix match; otherwise exact.
  if (pattern.endsWith("*")) {
    const p = fold(pattern.slice(0, -1));
    return (v) => v !== undefined && fold(v).startsWith(p);
  }
  if (pattern.startsWith("*")) {
    const s = fold(pattern.slice(1));
    return (v) => v !== undefined && fold(v).endsWith(s);
  }
  const e = fold(pattern);
  return (v) => v !== undefined && fold(v) === e;
}

/** Values within a field are ORed: matches when any pattern matches. */
export function compileAnyOf(patterns: readonly string[], opts: StringMatchOptions = {}): StringMatcher {
  const exact = new Set<string>();
  const others: StringMatcher[] = [];
  for (const p of patterns) {
    if (!p.includes("*")) exact.add(opts.ignoreCase ? p.toLowerCase() : p);
    else others.push(compileStringMatch(p, opts));
  }
  const fold = opts.ignoreCase === true;
  const n = others.length;
  return (v) => {
    if (v === undefined) return false;
    if (exact.size > 0 && exact.has(fold ? v.toLowerCase() : v)) return true;
    for (let i = 0; i < n; i++) if ((others[i] as StringMatcher)(v)) return true;
    return false;
  };
}

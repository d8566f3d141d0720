// Go-style duration strings as Istio's YAML writes them (`5s`, `1.5s`, `100ms`, `1h30m`) → milliseconds.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds of a duration string; undefined when it is not one. A positive duration is at least 1 ms. */
export function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = re.lastIndex;
  }
  if (at === 0 || at !== text.length) return undefined;
  const ms = Math.round(total);
  return total > 0 && ms === 0 ? 1 : ms;
}

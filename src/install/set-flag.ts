// `--set PATH=VALUE` as istioctl reads it: PATH is relative to the IstioOperator's `spec`, dotted, with
// `[N]` list indexes and `[key:value]` list selectors (`components.ingressGateways[name:my-gw].enabled`);
// VALUE is a boolean, a number or else a string. Pure: returns a new object.

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

type Step = { key: string } | { index: number } | { match: [string, string] };

/** Splits `a.b[0].c-d[name:x]` into steps; throws on a malformed path. */
export function parseSetPath(path: string): Step[] {
  const steps: Step[] = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]|\./gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(path)) !== null) {
    last = re.lastIndex;
    if (m[1] !== undefined) steps.push({ key: m[1] });
    else if (m[2] !== undefined) {
      const inner = m[2];
      const colon = inner.indexOf(":");
      if (/^\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (colon > 0) steps.push({ match: [inner.slice(0, colon), inner.slice(colon + 1)] });
      else throw new Error(`--set ${path}: "[${inner}]" is neither an index nor key:value`);
    }
  }
  if (last !== path.length || steps.length === 0) throw new Error(`--set ${path}: not a field path`);
  return steps;
}

/** istioctl's value parsing: true/false, numbers, else the string as written. */
export function parseSetValue(text: string): unknown {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/** Applies one `PATH=VALUE` to a copy of `spec`. */
export function applySet(spec: Json, assignment: string): Json {
  const eq = assignment.indexOf("=");
  if (eq <= 0) throw new Error(`--set ${assignment}: expected PATH=VALUE`);
  const steps = parseSetPath(assignment.slice(0, eq));
  const value = parseSetValue(assignment.slice(eq + 1));
  const out = structuredClone(spec);
  let node: unknown = out;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const lastStep = i === steps.length - 1;
    const next = steps[i + 1];
    const fresh = () => (next && !("key" in next) ? [] : {});
    if ("key" in step) {
      if (!isRecord(node)) throw new Error(`--set ${assignment}: ${step.key} is not inside a mapping`);
      if (lastStep) node[step.key] = value;
      else {
        if (node[step.key] === undefined || node[step.key] === null) node[step.key] = fresh();
        node = node[step.key];
      }
      continue;
    }
    if (!Array.isArray(node)) throw new Error(`--set ${assignment}: a list index needs a list`);
    let at: number;
    if ("index" in step) at = step.index;
    else {
      const [k, v] = step.match;
      at = node.findIndex((e) => isRecord(e) && String(e[k]) === v);
      if (at < 0) {
        node.push({ [k]: v });
        at = node.length - 1;
      }
    }
    if (at > node.length) throw new Error(`--set ${assignment}: index ${at} is past the list's end`);
    if (lastStep) node[at] = value;
    else {
      if (node[at] === undefined || node[at] === null) node[at] = fresh();
      node = node[at];
    }
  }
  return out;
}

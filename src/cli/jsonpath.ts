// A small JSONPath as `kubectl get -o jsonpath=` uses it: `{.items[0].metadata.name}`,
// `{.items..metadata.name}`, `{.status.podIP}`, `{.items[*].status.podIP}`, mixed with literal text.
import { UsageError } from "./io.js";

type Step =
  | { kind: "field"; name: string }
  | { kind: "index"; index: number | "*" }
  | { kind: "descend"; name: string };

function parsePath(expr: string): Step[] {
  const steps: Step[] = [];
  const re = /\.\.([A-Za-z0-9_-]+)|\.([A-Za-z0-9_-]+)|\[(\*|-?\d+)\]|\['([^']+)'\]/y;
  let text = expr.trim();
  if (text.startsWith("$")) text = text.slice(1);
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new UsageError(`unsupported jsonpath "${expr}" at "${text.slice(pos)}"`);
    if (m[1] !== undefined) steps.push({ kind: "descend", name: m[1] });
    else if (m[2] !== undefined) steps.push({ kind: "field", name: m[2] });
    else if (m[3] !== undefined) steps.push({ kind: "index", index: m[3] === "*" ? "*" : Number(m[3]) });
    else steps.push({ kind: "field", name: m[4]! });
    pos = re.lastIndex;
  }
  return steps;
}

function descend(value: unknown, name: string, out: unknown[]): void {
  if (Array.isArray(value)) for (const v of value) descend(v, name, out);
  else if (value && typeof value === "object") {
    const rec = value as Record<string, unknown>;
    if (name in rec) out.push(rec[name]);
    for (const v of Object.values(rec)) if (v && typeof v === "object") descend(v, name, out);
  }
}

export function evaluatePath(expr: string, root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const step of parsePath(expr)) {
    const next: unknown[] = [];
    for (const v of current) {
      if (step.kind === "field") {
        if (Array.isArray(v) && step.name !== "length")
          for (const item of v) next.push((item as Record<string, unknown>)?.[step.name]);
        else if (v && typeof v === "object" && step.name in v)
          next.push((v as Record<string, unknown>)[step.name]);
      } else if (step.kind === "index") {
        if (!Array.isArray(v)) continue;
        if (step.index === "*") next.push(...v);
        else {
          const item = v[step.index < 0 ? v.length + step.index : step.index];
          if (item !== undefined) next.push(item);
        }
      } else descend(v, step.name, next);
    }
    current = next.filter((x) => x !== undefined);
  }
  return current;
}

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Renders a template like kubectl: `{...}` expressions joined by spaces, other text kept. */
export function renderJsonPath(template: string, root: unknown): string {
  let out = "";
  let pos = 0;
  while (pos < template.length) {
    const open = template.indexOf("{", pos);
    if (open < 0) {
      out += template.slice(pos);
      break;
    }
    const close = template.indexOf("}", open);
    if (close < 0) throw new UsageError(`unclosed "{" in jsonpath "${template}"`);
    out += template.slice(pos, open);
    out += evaluatePath(template.slice(open + 1, close), root)
      .map(show)
      .join(" ");
    pos = close + 1;
  }
  return out.replace(/\\n/g, "\n");
}

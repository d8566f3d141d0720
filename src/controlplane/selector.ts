// Kubernetes label selectors: the `-l` string form (`app=curl,tier!=db,env`) parsed into requirements,
// and matching them (or a plain matchLabels map) against an object's labels.
import { ShoalError } from "../api/errors.js";

export interface Requirement {
  key: string;
  op: "=" | "!=" | "exists" | "!exists";
  value?: string;
}

export type LabelSelector = Requirement[];

const KEY = /^([a-z0-9A-Z.-]+\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const VALUE = /^([a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?$/;

/** Parses `k=v,k==v,k!=v,k,!k`. Throws a ShoalError naming the bad term. */
export function parseSelector(text: string): LabelSelector {
  const out: LabelSelector = [];
  for (const raw of text.split(",")) {
    const term = raw.trim();
    if (term === "") continue;
    let m: RegExpMatchArray | null;
    let req: Requirement;
    if ((m = term.match(/^([^=!]+)!=(.*)$/))) req = { key: m[1]!.trim(), op: "!=", value: m[2]!.trim() };
    else if ((m = term.match(/^([^=!]+)==?(.*)$/))) req = { key: m[1]!.trim(), op: "=", value: m[2]!.trim() };
    else if ((m = term.match(/^!\s*(.+)$/))) req = { key: m[1]!.trim(), op: "!exists" };
    else req = { key: term, op: "exists" };
    if (!KEY.test(req.key) || (req.value !== undefined && !VALUE.test(req.value)))
      throw new ShoalError("BAD_SELECTOR", `invalid label selector term "${term}"`);
    out.push(req);
  }
  return out;
}

/** The selector equivalent to a `matchLabels` map. */
export function fromMatchLabels(labels: Record<string, string>): LabelSelector {
  return Object.entries(labels).map(([key, value]) => ({ key, op: "=" as const, value }));
}

export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case "=":
        return has && labels[r.key] === r.value;
      case "!=":
        return !has || labels[r.key] !== r.value;
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}

/** Kubernetes `matchLabels`: every pair must be present. An empty map matches everything. */
export function matchesLabels(matchLabels: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

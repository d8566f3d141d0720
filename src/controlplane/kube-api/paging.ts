// List pagination (`limit` and `continue`), as kubectl's `--chunk-size` uses it: items in a stable
// (namespace, name) order, a page of at most `limit`, and an opaque token naming where the next page starts.
import type { AnyResource } from "../../api/meta.js";
import { fail } from "./status.js";

export interface Page {
  items: AnyResource[];
  /** The token for the next page (absent on the last one). */
  continue?: string;
  remainingItemCount?: number;
}

const keyOf = (r: AnyResource) => `${r.metadata.namespace ?? ""}/${r.metadata.name}`;

function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { start?: unknown };
    if (typeof parsed.start === "string") return parsed.start;
  } catch {
    // falls through to the error below
  }
  throw fail(400, "BadRequest", `invalid continue token "${token}"`);
}

/** One page of `items`; `limit` 0 or absent is the whole list. */
export function paginate(items: AnyResource[], limit: number, token: string | null): Page {
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const start = token ? decodeToken(token) : undefined;
  const rest = start === undefined ? sorted : sorted.filter((r) => keyOf(r) > start);
  if (!(limit > 0) || rest.length <= limit) return { items: rest };
  const page = rest.slice(0, limit);
  // Kubernetes: a list cut short by `limit` carries `continue` and, when known, how many items remain.
  return {
    items: page,
    continue: Buffer.from(JSON.stringify({ start: keyOf(page[page.length - 1]!) })).toString("base64url"),
    remainingItemCount: rest.length - limit,
  };
}

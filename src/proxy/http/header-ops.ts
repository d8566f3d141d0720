// VirtualService header edits on a flat name/value header list: remove drops every value of a name,
// set replaces (or adds) one value, add appends another value; names compare case-insensitively.
import type { HeaderOps } from "../proxy-config.js";

function drop(list: string[], lower: string): void {
  let w = 0;
  for (let i = 0; i < list.length; i += 2) {
    if ((list[i] as string).toLowerCase() === lower) continue;
    list[w] = list[i] as string;
    list[w + 1] = list[i + 1] as string;
    w += 2;
  }
  list.length = w;
}

/** Applies one set of edits in place: Envoy removes first, then sets and appends. */
export function applyHeaderOps(list: string[], ops: HeaderOps): void {
  for (const name of ops.remove) drop(list, name.toLowerCase());
  for (const name in ops.set) {
    drop(list, name.toLowerCase());
    list.push(name, ops.set[name] as string);
  }
  for (const name in ops.add) list.push(name, ops.add[name] as string);
}

/** Sets one header (replacing every value it had). */
export function setHeader(list: string[], name: string, value: string): void {
  drop(list, name);
  list.push(name, value);
}

/** The first value of a header in a flat list. */
export function getHeader(list: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < list.length; i += 2)
    if ((list[i] as string).toLowerCase() === lower) return list[i + 1];
  return undefined;
}

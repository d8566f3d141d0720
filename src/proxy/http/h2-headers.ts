// HTTP/2 header objects ↔ the flat name/value lists the pipeline works with.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";

/** A header object without pseudo-headers, as a flat [name, value, …] list (repeated names expanded). */
export function rawList(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const v = headers[name];
    if (name.charCodeAt(0) === 58 /* : */ || v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) out.push(name, one);
    else out.push(name, String(v));
  }
  return out;
}

/** A flat list into an HTTP/2 header object (lowercase names, repeated names as arrays), onto `base`. */
export function headerObject(list: readonly string[], base: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  const out = base;
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}

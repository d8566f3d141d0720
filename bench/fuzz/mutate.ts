// Seeded mutation for the fuzz targets: a small PRNG (so an input is reproduced from its seed and index),
// byte-level mutations of text and buffers, and structural mutations of JSON-like values (replace a
// value somewhere with one of a list of hostile values, drop a key, duplicate an array item, nest deep).
import type { Rand } from "../../src/testing/prng.js";
import { prng } from "../../src/testing/prng.js";

export type { Rand };
export { prng };

/** The PRNG for input `index` of a run with `seed`: any input can be regenerated alone. */
export function inputRand(seed: number, index: number): Rand {
  return prng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

export const int = (rand: Rand, n: number) => Math.floor(rand() * n);
export const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)]!;

/** Values that break parsers and validators: wrong types, edge numbers, odd strings, deep nesting. */
export const HOSTILE_VALUES: readonly unknown[] = [
  null,
  "",
  " ",
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  Number.MAX_VALUE,
  true,
  "true",
  [],
  {},
  [null],
  [[]],
  { "": "" },
  "a.b.c.d",
  "*",
  "**",
  "/{**}/x",
  "/{*}/{**}",
  "0.0.0.0/0",
  "::/0",
  "10.0.0.0/33",
  "256.1.1.1",
  "90x1",
  "65536",
  "spiffe://cluster.local/ns/x/sa/y",
  "cluster.local/ns/*/sa/*",
  "%00",
  "%2f%2F..%2f",
  "/../../etc/passwd",
  "a\u0000b",
  "a\r\nb: c",
  "\ud800",
  "x".repeat(70_000),
  "é😀",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "1e999",
  "NaN",
  "-0",
  "0x10",
  "regex: ^(a+)+$",
];

export const HOSTILE_KEYS: readonly string[] = [
  "__proto__",
  "constructor",
  "prototype",
  "",
  "toString",
  "metadata",
  "spec",
  "kind",
  "apiVersion",
  "unknownField",
  "a.b",
];

function deep(depth: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { n: v };
  return v;
}

/** A hostile value, or a deep nest, or a copy of some other value found in the same document. */
function hostile(rand: Rand, donors: unknown[]): unknown {
  const r = rand();
  if (r < 0.05) return deep(int(rand, 100));
  if (r < 0.3 && donors.length > 0) return structuredClone(pick(rand, donors));
  return structuredClone(pick(rand, HOSTILE_VALUES));
}

/** Every value in `root` (containers included), for picking a spot to mutate or a donor value. */
function collect(root: unknown, out: Array<{ parent: unknown; key: string | number; value: unknown }>): void {
  const walk = (parent: unknown, key: string | number, value: unknown, depth: number) => {
    out.push({ parent, key, value });
    if (depth > 80 || !value || typeof value !== "object") return;
    if (Array.isArray(value)) value.forEach((v, i) => walk(value, i, v, depth + 1));
    else for (const [k, v] of Object.entries(value)) walk(value, k, v, depth + 1);
  };
  walk(undefined, "", root, 0);
}

/** 1–4 structural mutations of a copy of `value`. */
export function mutateValue(rand: Rand, value: unknown, donorPool: unknown[] = []): unknown {
  const root = { v: structuredClone(value) };
  const rounds = 1 + int(rand, 4);
  for (let n = 0; n < rounds; n++) {
    const spots: Array<{ parent: unknown; key: string | number; value: unknown }> = [];
    collect(root.v, spots);
    const donors = [...spots.map((s) => s.value), ...donorPool];
    const spot = pick(rand, spots);
    const parent = (spot.parent ?? root) as Record<string | number, unknown>;
    const key = spot.parent === undefined ? "v" : spot.key;
    const op = int(rand, 7);
    if (op <= 2) parent[key] = hostile(rand, donors);
    else if (op === 3 && spot.parent !== undefined) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (op === 4 && Array.isArray(spot.value) && spot.value.length > 0) {
      const arr = spot.value as unknown[];
      const copies = pick(rand, [1, 2, 50, 2000]);
      for (let i = 0; i < copies; i++) arr.push(structuredClone(pick(rand, arr)));
    } else if (op === 5 && spot.value && typeof spot.value === "object" && !Array.isArray(spot.value)) {
      (spot.value as Record<string, unknown>)[pick(rand, HOSTILE_KEYS)] = hostile(rand, donors);
    } else if (op === 6 && typeof spot.value === "string") {
      parent[key] = mutateText(rand, spot.value);
    } else if (op === 6 && typeof spot.value === "number") {
      parent[key] = pick(rand, [
        spot.value + 1,
        spot.value - 1,
        -spot.value,
        spot.value * 65536,
        String(spot.value),
      ]);
    } else parent[key] = hostile(rand, donors);
  }
  return root.v;
}

const TEXT_TOKENS = [
  "\n",
  "\r\n",
  ":",
  ": ",
  "- ",
  "---\n",
  "{",
  "}",
  "[",
  "]",
  "'",
  '"',
  "&a ",
  "*a",
  "!!binary ",
  "!!str ",
  "<<: *a\n",
  "? ",
  "|\n",
  ">-\n",
  "#",
  "\t",
  "%YAML 1.2\n",
  "\\",
  "\u0000",
  "\ufeff",
  "  ",
  "~",
  "0x",
  "1e9",
  "é",
];

/** 1–8 byte-level edits of a string: delete, duplicate or move a slice, insert a token, flip a char. */
export function mutateText(rand: Rand, text: string, splice?: string): string {
  let s = text;
  const rounds = 1 + int(rand, 8);
  for (let n = 0; n < rounds; n++) {
    const at = int(rand, s.length + 1);
    const len = 1 + int(rand, Math.min(64, s.length + 1));
    switch (int(rand, 7)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at, at + len).repeat(1 + int(rand, 20)) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + pick(rand, TEXT_TOKENS) + s.slice(at);
        break;
      case 3:
        s = s.slice(0, at) + String.fromCharCode(int(rand, 256)) + s.slice(at + 1);
        break;
      case 4:
        s = s.slice(0, at); // truncated
        break;
      case 5: {
        const from = int(rand, s.length + 1);
        s = s.slice(0, at) + s.slice(from, from + len) + s.slice(at);
        break;
      }
      default:
        if (splice) {
          const from = int(rand, splice.length + 1);
          s = s.slice(0, at) + splice.slice(from, from + len * 4) + s.slice(at);
        } else s = s.slice(0, at) + pick(rand, TEXT_TOKENS) + s.slice(at);
    }
  }
  return s;
}

/** Byte-level edits of a buffer (flip bits, set interesting bytes, truncate, duplicate a slice). */
export function mutateBytes(rand: Rand, buf: Buffer): Buffer {
  let b = Buffer.from(buf);
  const rounds = 1 + int(rand, 6);
  for (let n = 0; n < rounds; n++) {
    const at = int(rand, b.length + 1);
    switch (int(rand, 6)) {
      case 0:
        if (at < b.length) b[at] = b[at]! ^ (1 << int(rand, 8));
        break;
      case 1:
        if (at < b.length) b[at] = pick(rand, [0, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x3a]);
        break;
      case 2:
        b = b.subarray(0, at);
        break;
      case 3: {
        const slice = b.subarray(at, at + 1 + int(rand, 32));
        const copies = Array.from({ length: 1 + int(rand, 50) }, () => slice);
        b = Buffer.concat([b.subarray(0, at), ...copies, b.subarray(at)]);
        break;
      }
      case 4:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([int(rand, 256), int(rand, 256)]), b.subarray(at)]);
        break;
      default: {
        const len = int(rand, 16);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
      }
    }
  }
  return b;
}

// Load balancing among a cluster's usable endpoints (DestinationRule `loadBalancer`): round robin (smooth,
// by weight), least request (power of two choices), random (by weight), and consistent hashing on a
// header, cookie, source IP or query parameter (a ring with a fixed number of points per endpoint, so
// removing an endpoint moves only the keys it held). Pure: randomness and the request are passed in.
import type { LoadBalancer } from "./proxy-config.js";

/** What a consistent-hash load balancer may hash on. */
export interface PickContext {
  headers?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /** The raw query string without `?`. */
  query?: string | undefined;
  sourceIp?: string | undefined;
}

export interface Balanced {
  /** `address:port`, what the hash ring is built from. */
  key: string;
  weight: number;
  state: { active: number };
}

/** The balancer's memory for one cluster plan: smooth round-robin credits and the hash ring. */
export interface LbState<T> {
  credits: Map<T, number>;
  ring: HashRing<T> | undefined;
}

export function newLbState<T>(): LbState<T> {
  return { credits: new Map(), ring: undefined };
}

/**
 * One endpoint out of `usable` (a subset of `all`, the cluster's endpoints in config order); undefined
 * when `usable` is empty.
 */
export function chooseEndpoint<T extends Balanced>(
  lb: LoadBalancer | undefined,
  usable: readonly T[],
  all: readonly T[],
  st: LbState<T>,
  ctx: PickContext,
  random: () => number,
): T | undefined {
  if (usable.length === 0) return undefined;
  if (usable.length === 1) return usable[0];
  if (lb?.hash) {
    const key = hashKey(lb.hash, ctx);
    // No key to hash (header or cookie absent): Envoy hashes a random value, i.e. a random endpoint.
    if (key === undefined) return weightedRandom(usable, random);
    st.ring ??= buildRing(all);
    return ringLookup(st.ring, hash32(key), new Set(usable)) ?? weightedRandom(usable, random);
  }
  switch (lb?.policy ?? "ROUND_ROBIN") {
    case "RANDOM":
      return weightedRandom(usable, random);
    case "LEAST_REQUEST": {
      // Power of two choices: two random draws, the one with fewer active requests wins (ties: the first).
      const a = weightedRandom(usable, random);
      const b = weightedRandom(usable, random);
      return b.state.active < a.state.active ? b : a;
    }
    default:
      // ROUND_ROBIN; PASSTHROUGH names the connection's original destination, which an EDS cluster
      // does not use: such a cluster balances round robin.
      return smoothRoundRobin(usable, st.credits);
  }
}

/** Weighted round robin that interleaves (nginx's smooth algorithm); equal weights give plain rotation
 *  in config order, and an endpoint leaving or rejoining `usable` does not disturb the others' turns. */
function smoothRoundRobin<T extends Balanced>(usable: readonly T[], credits: Map<T, number>): T {
  let total = 0;
  let best: T | undefined;
  let bestCredit = -Infinity;
  for (const e of usable) {
    const c = (credits.get(e) ?? 0) + e.weight;
    credits.set(e, c);
    total += e.weight;
    if (c > bestCredit) {
      best = e;
      bestCredit = c;
    }
  }
  const chosen = best as T;
  credits.set(chosen, bestCredit - total);
  return chosen;
}

function weightedRandom<T extends Balanced>(usable: readonly T[], random: () => number): T {
  const total = usable.reduce((n, e) => n + e.weight, 0);
  let r = random() * total;
  for (const e of usable) {
    r -= e.weight;
    if (r < 0) return e;
  }
  return usable[usable.length - 1] as T;
}

function headerValue(headers: PickContext["headers"], name: string): string | undefined {
  const v = headers?.[name.toLowerCase()];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(",") : v;
}

function cookieValue(headers: PickContext["headers"], name: string): string | undefined {
  const raw = headerValue(headers, "cookie");
  if (raw === undefined) return undefined;
  for (const part of raw.split(/[;,]/)) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return unquote(part.slice(eq + 1).trim());
  }
  return undefined;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/**
 * Cookie hashing with a ttl when the request has no such cookie: Envoy creates one, valued from the
 * downstream connection (`connection`: its remote and local addresses, so one client connection keeps one
 * value), hashes on it, and sets it on the response. Returns the context to pick with and the
 * `Set-Cookie` value to add; without a ttl, or when the cookie is there, the context unchanged.
 */
export function stickyCookie(
  lb: LoadBalancer | undefined,
  ctx: PickContext,
  connection: string,
): { ctx: PickContext; setCookie?: string } {
  const cookie = lb?.hash?.cookie;
  if (!cookie || cookie.ttlMs === undefined || cookieValue(ctx.headers, cookie.name) !== undefined)
    return { ctx };
  const value = hash32(connection).toString(16).padStart(8, "0") + hash32(`${connection}#`).toString(16);
  const existing = headerValue(ctx.headers, "cookie");
  const pair = `${cookie.name}=${value}`;
  const headers = { ...ctx.headers, cookie: existing ? `${existing}; ${pair}` : pair };
  // A ttl of 0 makes a session cookie (no Max-Age).
  const maxAge = cookie.ttlMs > 0 ? `; Max-Age=${Math.max(1, Math.round(cookie.ttlMs / 1000))}` : "";
  const path = cookie.path ? `; Path=${cookie.path}` : "";
  return { ctx: { ...ctx, headers }, setCookie: `${cookie.name}="${value}"${maxAge}${path}; HttpOnly` };
}

/** The request attribute the hash policy names; undefined when the request does not carry it. */
export function hashKey(hash: NonNullable<LoadBalancer["hash"]>, ctx: PickContext): string | undefined {
  if (hash.header !== undefined) return headerValue(ctx.headers, hash.header);
  if (hash.cookie !== undefined) return cookieValue(ctx.headers, hash.cookie.name);
  if (hash.sourceIp) return ctx.sourceIp;
  if (hash.queryParam !== undefined) {
    const v = new URLSearchParams(ctx.query ?? "").get(hash.queryParam);
    return v ?? undefined;
  }
  return undefined;
}

/** 32-bit FNV-1a over the string's code units, then murmur3's finalizer for a good spread. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Points on the ring per unit of endpoint weight. Fixed (not scaled to the endpoint count) so an
 *  endpoint's points do not depend on which other endpoints exist. */
export const POINTS_PER_WEIGHT = 160;
/** Ring size cap (Envoy's default maximum_ring_size); only huge weights reach it, and then scale down. */
const MAX_RING_POINTS = 8_388_608;

export interface HashRing<T> {
  hashes: Uint32Array;
  owners: T[];
}

export function buildRing<T extends Balanced>(all: readonly T[]): HashRing<T> {
  const totalWeight = all.reduce((n, e) => n + e.weight, 0);
  const scale = Math.min(1, MAX_RING_POINTS / Math.max(1, POINTS_PER_WEIGHT * totalWeight));
  const points: Array<{ h: number; e: T }> = [];
  for (const e of all) {
    const count = Math.max(1, Math.round(POINTS_PER_WEIGHT * e.weight * scale));
    for (let i = 0; i < count; i++) points.push({ h: hash32(`${e.key}_${i}`), e });
  }
  points.sort((a, b) => a.h - b.h);
  return { hashes: Uint32Array.from(points.map((p) => p.h)), owners: points.map((p) => p.e) };
}

/** The owner of the first point at or after `h` (wrapping) that is usable: an unusable endpoint's keys go
 *  to the next usable one on the ring, everyone else's stay where they are. */
export function ringLookup<T>(ring: HashRing<T>, h: number, usable: ReadonlySet<T>): T | undefined {
  const n = ring.hashes.length;
  if (n === 0) return undefined;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ring.hashes[mid] as number) < h) lo = mid + 1;
    else hi = mid;
  }
  for (let i = 0; i < n; i++) {
    const owner = ring.owners[(lo + i) % n] as T;
    if (usable.has(owner)) return owner;
  }
  return undefined;
}

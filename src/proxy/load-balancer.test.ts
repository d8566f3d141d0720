// Load balancing policies with an injected random source: round-robin order (and by weight), least
// request preferring the idle endpoint, random spread by weight, consistent hashing that sticks and moves
// only a removed endpoint's keys, and the random fallback when the key is missing.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Balanced, PickContext } from "./load-balancer.js";
import { chooseEndpoint, hashKey, newLbState, stickyCookie } from "./load-balancer.js";
import type { LoadBalancer } from "./proxy-config.js";
import { prng } from "../testing/prng.js";

type Ep = Balanced & { name: string };

function eps(...spec: Array<string | [string, number]>): Ep[] {
  return spec.map((s) => {
    const [name, weight] = typeof s === "string" ? [s, 1] : s;
    return { name, key: `${name}:80`, weight, state: { active: 0 } };
  });
}

/** A repeatable random source. */
const seeded = prng;

/** A random source that returns the given values in turn. */
function scripted(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

function picks(
  lb: LoadBalancer | undefined,
  all: Ep[],
  n: number,
  random = seeded(1),
  ctx: PickContext = {},
) {
  const st = newLbState<Ep>();
  return Array.from({ length: n }, () => chooseEndpoint(lb, all, all, st, ctx, random)?.name);
}

function tally(names: Array<string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) if (n) out[n] = (out[n] ?? 0) + 1;
  return out;
}

test("round robin (the default, and PASSTHROUGH on an EDS cluster) rotates in config order", () => {
  const all = eps("a", "b", "c");
  assert.deepEqual(picks(undefined, all, 7), ["a", "b", "c", "a", "b", "c", "a"]);
  assert.deepEqual(picks({ policy: "PASSTHROUGH" }, all, 4), ["a", "b", "c", "a"]);
});

test("round robin follows weights and interleaves", () => {
  const all = eps(["a", 3], "b");
  const seq = picks({ policy: "ROUND_ROBIN" }, all, 8);
  assert.deepEqual(tally(seq), { a: 6, b: 2 });
  assert.deepEqual(seq.slice(0, 4), ["a", "a", "b", "a"], "b's turn is not deferred to the end");
});

test("round robin skips an endpoint missing from the usable set and keeps the others' order", () => {
  const all = eps("a", "b", "c");
  const st = newLbState<Ep>();
  const r = seeded(1);
  const usable = [all[0], all[2]] as Ep[];
  const seq = [1, 2, 3, 4].map(() => chooseEndpoint(undefined, usable, all, st, {}, r)?.name);
  assert.deepEqual(seq, ["a", "c", "a", "c"]);
});

test("no usable endpoint: no pick", () => {
  assert.equal(chooseEndpoint(undefined, [], eps("a"), newLbState(), {}, seeded(1)), undefined);
});

test("least request: of the two random draws the one with fewer active requests wins", () => {
  const all = eps("a", "b", "c");
  (all[0] as Ep).state.active = 5;
  const lb: LoadBalancer = { policy: "LEAST_REQUEST" };
  const st = newLbState<Ep>();
  // Draws a then b, and b then a: b either way.
  assert.equal(chooseEndpoint(lb, all, all, st, {}, scripted(0.1, 0.5))?.name, "b");
  assert.equal(chooseEndpoint(lb, all, all, st, {}, scripted(0.5, 0.1))?.name, "b");
  // Both draws on the busy one: it is the only choice.
  assert.equal(chooseEndpoint(lb, all, all, st, {}, scripted(0.1, 0.2))?.name, "a");
  // Over many picks the busy endpoint gets only the both-draws-on-it share (1/9), the idle ones the rest.
  const seq = picks(lb, all, 900, seeded(7));
  const t = tally(seq);
  assert.ok((t.a ?? 0) < 150, `busy endpoint got ${t.a}`);
  assert.ok((t.b ?? 0) > 300 && (t.c ?? 0) > 300, JSON.stringify(t));
});

test("random spreads by weight", () => {
  const all = eps(["a", 1], ["b", 3]);
  const t = tally(picks({ policy: "RANDOM" }, all, 4000, seeded(3)));
  assert.ok((t.b ?? 0) > 2700 && (t.b ?? 0) < 3300, JSON.stringify(t));
  assert.ok((t.a ?? 0) > 700, JSON.stringify(t));
  // Scripted: r × total weight falls in a's share, then in b's.
  const st = newLbState<Ep>();
  assert.equal(chooseEndpoint({ policy: "RANDOM" }, all, all, st, {}, scripted(0.2))?.name, "a");
  assert.equal(chooseEndpoint({ policy: "RANDOM" }, all, all, st, {}, scripted(0.3))?.name, "b");
});

const byHeader: LoadBalancer = { policy: "ROUND_ROBIN", hash: { header: "x-user" } };

function hashPick(all: Ep[], usable: Ep[], user: string, st = newLbState<Ep>()): string | undefined {
  return chooseEndpoint(byHeader, usable, all, st, { headers: { "x-user": user } }, seeded(1))?.name;
}

test("consistent hash: the same key always picks the same endpoint, and keys spread", () => {
  const all = eps("a", "b", "c", "d");
  const st = newLbState<Ep>();
  const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  const first = users.map((u) => hashPick(all, all, u, st));
  assert.deepEqual(
    users.map((u) => hashPick(all, all, u, st)),
    first,
  );
  // A fresh ring for the same endpoints agrees (the ring depends on the endpoints only).
  assert.deepEqual(
    users.map((u) => hashPick(all, all, u)),
    first,
  );
  const t = tally(first);
  for (const n of ["a", "b", "c", "d"]) assert.ok((t[n] ?? 0) > 50, JSON.stringify(t));
});

test("consistent hash: removing an endpoint moves only its keys; an unusable one lends its keys out", () => {
  const all = eps("a", "b", "c", "d");
  const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  const before = users.map((u) => hashPick(all, all, u));
  const without = all.filter((e) => e.name !== "c");
  const after = users.map((u) => hashPick(without, without, u));
  let moved = 0;
  users.forEach((_, i) => {
    if (before[i] === "c") {
      assert.notEqual(after[i], "c");
      moved++;
    } else assert.equal(after[i], before[i], `key ${i} moved from ${before[i]} to ${after[i]}`);
  });
  assert.ok(moved > 0);
  // Same when c is still configured but not usable (ejected): same placement as without it.
  const st = newLbState<Ep>();
  assert.deepEqual(
    users.map((u) => hashPick(all, without, u, st)),
    after,
  );
});

test("consistent hash on a cookie, the source IP and a query parameter; a missing key picks at random", () => {
  assert.equal(
    hashKey({ cookie: { name: "session" } }, { headers: { cookie: "a=1; session=xyz; b=2" } }),
    "xyz",
  );
  assert.equal(hashKey({ cookie: { name: "session" } }, { headers: { cookie: "a=1" } }), undefined);
  assert.equal(hashKey({ sourceIp: true }, { sourceIp: "10.244.0.7" }), "10.244.0.7");
  assert.equal(hashKey({ queryParam: "u" }, { query: "x=1&u=bob" }), "bob");
  assert.equal(hashKey({ header: "X-User" }, { headers: { "x-user": ["a", "b"] } }), "a,b");
  const all = eps("a", "b", "c");
  const bySource: LoadBalancer = { policy: "ROUND_ROBIN", hash: { sourceIp: true } };
  const st = newLbState<Ep>();
  const ctx = { sourceIp: "10.244.0.7" };
  const one = chooseEndpoint(bySource, all, all, st, ctx, seeded(1))?.name;
  for (let i = 0; i < 20; i++)
    assert.equal(chooseEndpoint(bySource, all, all, st, ctx, seeded(i))?.name, one);
  // No header: the pick follows the random source (not one fixed endpoint, not round robin).
  assert.equal(chooseEndpoint(byHeader, all, all, st, {}, scripted(0.1))?.name, "a");
  assert.equal(chooseEndpoint(byHeader, all, all, st, {}, scripted(0.9))?.name, "c");
  assert.equal(chooseEndpoint(byHeader, all, all, st, {}, scripted(0.9))?.name, "c");
});

test("cookie hashing with a ttl creates the missing cookie once per connection and sticks to it", () => {
  const lb: LoadBalancer = {
    policy: "ROUND_ROBIN",
    hash: { cookie: { name: "s", path: "/", ttlMs: 60_000 } },
  };
  const all = eps("a", "b", "c");
  const st = newLbState<Ep>();
  const first = stickyCookie(lb, { headers: { cookie: "x=1" } }, "10.244.0.7:40000|10.244.0.9:80");
  assert.match(first.setCookie ?? "", /^s="([0-9a-f]+)"; Max-Age=60; Path=\/; HttpOnly$/);
  const value = /s="([0-9a-f]+)"/.exec(first.setCookie ?? "")?.[1];
  assert.equal(hashKey({ cookie: { name: "s" } }, first.ctx), value);
  assert.equal(
    stickyCookie(lb, { headers: {} }, "10.244.0.7:40000|10.244.0.9:80").setCookie,
    first.setCookie,
    "same connection, same cookie",
  );
  // The client sends it back (quoted): same key, same endpoint, no new cookie.
  const back = stickyCookie(lb, { headers: { cookie: `s="${value}"` } }, "other");
  assert.equal(back.setCookie, undefined);
  const pick = (ctx: PickContext, r: number) => chooseEndpoint(lb, all, all, st, ctx, scripted(r))?.name;
  assert.equal(pick(back.ctx, 0.1), pick(first.ctx, 0.9));
  // Without a ttl nothing is created; ttl 0 makes a session cookie.
  assert.equal(
    stickyCookie({ policy: "RANDOM", hash: { cookie: { name: "s" } } }, {}, "c").setCookie,
    undefined,
  );
  const session = stickyCookie({ policy: "RANDOM", hash: { cookie: { name: "s", ttlMs: 0 } } }, {}, "c");
  assert.match(session.setCookie ?? "", /^s="[0-9a-f]+"; HttpOnly$/);
});

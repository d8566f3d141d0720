// captureRules(): the exact nat table for Istio's default capture, each option's effect on it, and (as
// root, in a throwaway network namespace) that iptables-restore accepts what it produces.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import type { CaptureOptions } from "./capture-rules.js";
import { captureRules, defaultCaptureOptions } from "./capture-rules.js";

const HEADER = [
  "*nat",
  ":PREROUTING ACCEPT [0:0]",
  ":INPUT ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  ":POSTROUTING ACCEPT [0:0]",
  ":ISTIO_INBOUND - [0:0]",
  ":ISTIO_IN_REDIRECT - [0:0]",
  ":ISTIO_OUTPUT - [0:0]",
  ":ISTIO_REDIRECT - [0:0]",
];

const OWNER_RULES = [
  "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
  "-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN",
  "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
  "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT",
  "-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN",
  "-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN",
];

const rules = (o: Partial<CaptureOptions> = {}) => captureRules({ ...defaultCaptureOptions(), ...o });
const lines = (o: Partial<CaptureOptions> = {}) => rules(o).trimEnd().split("\n");

test("Istio's default capture: inbound TCP → 15006 but the proxy's ports, outbound TCP → 15001", () => {
  assert.equal(
    rules(),
    [
      ...HEADER,
      "-A PREROUTING -p tcp -j ISTIO_INBOUND",
      "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
      "-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
      "-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN",
      "-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN",
      "-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN",
      "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
      "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
      "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
      "-A ISTIO_OUTPUT -o lo -p tcp --dport 15008 -j RETURN",
      ...OWNER_RULES,
      "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
      "-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
      "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
      "COMMIT",
      "",
    ].join("\n"),
  );
});

test("excluded inbound ports RETURN before the catch-all; the proxy's ports stay excluded", () => {
  const out = lines({ excludeInboundPorts: [15020, 8081, 8081] });
  const inbound = out.filter((l) => l.startsWith("-A ISTIO_INBOUND"));
  assert.deepEqual(inbound, [
    "-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
    "-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN",
    "-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN",
    "-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN",
    "-A ISTIO_INBOUND -p tcp --dport 8081 -j RETURN",
    "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
  ]);
});

test("a list of inbound ports captures only those; an empty list captures no inbound traffic", () => {
  const listed = lines({ includeInboundPorts: [9000, 9001] }).filter((l) => /^-A .*ISTIO_INBOUND/.test(l));
  assert.deepEqual(listed, [
    "-A PREROUTING -p tcp -j ISTIO_INBOUND",
    "-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
    "-A ISTIO_INBOUND -p tcp --dport 9000 -j ISTIO_IN_REDIRECT",
    "-A ISTIO_INBOUND -p tcp --dport 9001 -j ISTIO_IN_REDIRECT",
  ]);
  const none = lines({ includeInboundPorts: [] });
  assert.ok(!none.some((l) => l.startsWith("-A PREROUTING") || l.startsWith("-A ISTIO_INBOUND")));
  assert.ok(none.includes("-A OUTPUT -p tcp -j ISTIO_OUTPUT"), "outbound capture is unaffected");
});

test("outbound: excluded ports first, then loopback and the proxy, then excluded and included ranges", () => {
  const out = lines({
    excludeOutboundPorts: [3306],
    excludeOutboundIPRanges: ["10.96.0.0/16"],
    includeOutboundIPRanges: ["10.0.0.0/8", "203.0.113.0/24"],
  }).filter((l) => l.startsWith("-A ISTIO_OUTPUT"));
  assert.deepEqual(out, [
    "-A ISTIO_OUTPUT -p tcp --dport 3306 -j RETURN",
    "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
    "-A ISTIO_OUTPUT -o lo -p tcp --dport 15008 -j RETURN",
    ...OWNER_RULES,
    "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
    "-A ISTIO_OUTPUT -d 10.96.0.0/16 -j RETURN",
    "-A ISTIO_OUTPUT -d 10.0.0.0/8 -j ISTIO_REDIRECT",
    "-A ISTIO_OUTPUT -d 203.0.113.0/24 -j ISTIO_REDIRECT",
  ]);
});

test("the tunnel port 15008 is never captured inbound: it RETURNs first, even when a list names it", () => {
  const variants: Array<"*" | number[]> = ["*", [15008, 9000]];
  for (const includeInboundPorts of variants) {
    const inbound = lines({ includeInboundPorts }).filter((l) => l.startsWith("-A ISTIO_INBOUND"));
    assert.equal(inbound[0], "-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN", String(includeInboundPorts));
    assert.ok(!inbound.some((l) => l.includes("--dport 15008 -j ISTIO_IN_REDIRECT")));
  }
  // No inbound capture: no inbound chain rules at all, the tunnel port included.
  assert.ok(
    !lines({ includeInboundPorts: [] }).some(
      (l) => l.includes("--dport 15008 -j RETURN") && l.includes("INBOUND"),
    ),
  );
  // The proxy's own tunnel to its pod IP (a pod calling its own Service) is not hairpinned to 15006.
  const out = lines().filter((l) => l.startsWith("-A ISTIO_OUTPUT"));
  const tunnel = out.indexOf("-A ISTIO_OUTPUT -o lo -p tcp --dport 15008 -j RETURN");
  const hairpin = out.findIndex((l) => l.endsWith("-j ISTIO_IN_REDIRECT"));
  assert.ok(tunnel >= 0 && tunnel < hairpin);
});

test("no included outbound ranges: no outbound capture at all", () => {
  const out = lines({ includeOutboundIPRanges: [] });
  assert.ok(!out.some((l) => l.startsWith("-A OUTPUT") || l.startsWith("-A ISTIO_OUTPUT")));
  assert.ok(out.includes("-A PREROUTING -p tcp -j ISTIO_INBOUND"));
});

test("the proxy's loopback connections to its pod IP go inbound (hairpin), after 127.0.0.6 is let through", () => {
  const out = lines().filter((l) => l.startsWith("-A ISTIO_OUTPUT"));
  // The inbound side's own connections to the application (from 127.0.0.6) must not loop back to 15006.
  assert.deepEqual(out.slice(0, 5), [
    "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
    "-A ISTIO_OUTPUT -o lo -p tcp --dport 15008 -j RETURN",
    "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
    "-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN",
    "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
  ]);
  const off = rules({ loopbackInboundRedirect: false });
  assert.doesNotMatch(off, /-A ISTIO_OUTPUT .*-j ISTIO_IN_REDIRECT/, "turned off, no such rule");
  assert.match(off, /-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN\n/);
});

test("other ports and proxy ids are used as given", () => {
  const out = rules({ outboundPort: 16001, inboundPort: 16006, proxyUid: 2000, proxyGid: 2001 });
  assert.match(out, /-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 16001\n/);
  assert.match(out, /-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16006\n/);
  assert.match(out, /-A ISTIO_OUTPUT -m owner --uid-owner 2000 -j RETURN\n/);
  assert.match(out, /-A ISTIO_OUTPUT -m owner --gid-owner 2001 -j RETURN\n/);
});

const canRestore =
  process.getuid?.() === 0 && spawnSync("unshare", ["-n", "iptables-restore", "--version"]).status === 0;

test("iptables-restore accepts every variant (fresh network namespace)", { skip: !canRestore }, () => {
  const variants: Array<Partial<CaptureOptions>> = [
    {},
    { loopbackInboundRedirect: false },
    { includeInboundPorts: [9000], excludeOutboundPorts: [3306, 5432] },
    { includeOutboundIPRanges: ["10.0.0.0/8"], excludeOutboundIPRanges: ["10.96.0.0/16"] },
    { includeInboundPorts: [], includeOutboundIPRanges: [] },
  ];
  for (const v of variants) {
    const r = spawnSync("unshare", ["-n", "iptables-restore"], { input: rules(v), encoding: "utf8" });
    assert.equal(r.status, 0, `${JSON.stringify(v)}: ${r.stderr}`);
  }
});

// Golden-ish checks of the node namespace's kube-proxy-style iptables document.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderServiceRules } from "./service-rules.js";
import type { ServiceState } from "./cluster-state.js";

const echo: ServiceState = {
  namespace: "foo",
  name: "tcp-echo",
  clusterIP: "10.96.0.10",
  ports: [
    { name: "tcp", port: 9000, targetPort: 9000, protocol: "TCP" },
    { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
  ],
  endpoints: ["10.244.0.3", "10.244.0.2", "10.244.0.4"],
};

test("each VIP:port jumps to a service chain that spreads over the endpoints", () => {
  const text = renderServiceRules([echo]);
  const svcJump = text.split("\n").filter((l) => l.startsWith("-A SHOAL-SERVICES -d 10.96.0.10/32"));
  assert.equal(svcJump.length, 2);
  assert.match(svcJump[0] ?? "", /-p udp -m udp --dport 53 .*-j SHOAL-SVC-/);
  assert.match(svcJump[1] ?? "", /-p tcp -m tcp --dport 9000 .*-j SHOAL-SVC-/);
  const tcpChain = /-j (SHOAL-SVC-\w+)$/.exec(svcJump[1] ?? "")?.[1] ?? "";
  const picks = text.split("\n").filter((l) => l.startsWith(`-A ${tcpChain} `));
  // kube-proxy's spread: 1/3, then 1/2, then the rest.
  assert.equal(picks.length, 3);
  assert.match(picks[0] ?? "", /10\.244\.0\.2:9000.*--mode random --probability 0\.3333333333 /);
  assert.match(picks[1] ?? "", /10\.244\.0\.3:9000.*--mode random --probability 0\.5000000000 /);
  assert.doesNotMatch(picks[2] ?? "", /statistic/);
  assert.match(text, /-j DNAT --to-destination 10\.244\.0\.4:9000/);
  assert.match(text, /-p udp -m udp -j DNAT --to-destination 10\.244\.0\.2:5353/);
});

test("hairpin traffic (endpoint reaching its own VIP) is marked for masquerade, nothing else is", () => {
  const text = renderServiceRules([echo]);
  assert.match(text, /-A SHOAL-SEP-\w+ -s 10\.244\.0\.2\/32 .* -j SHOAL-MARK-MASQ/);
  assert.match(text, /-A SHOAL-POSTROUTING -m mark --mark 0x4000\/0x4000 -j MASQUERADE/);
  assert.equal(text.match(/MASQUERADE/g)?.length, 1);
});

test("a service without endpoints is rejected in the filter table; headless services get no rules", () => {
  const text = renderServiceRules([
    { ...echo, endpoints: [] },
    {
      namespace: "foo",
      name: "headless",
      ports: [{ port: 80, targetPort: 80, protocol: "TCP" }],
      endpoints: ["10.244.0.9"],
    },
  ]);
  assert.match(text, /-A SHOAL-FORWARD -d 10\.96\.0\.10\/32 -p tcp -m tcp --dport 9000 .*-j REJECT/);
  assert.doesNotMatch(text, /DNAT/);
  assert.doesNotMatch(text, /10\.244\.0\.9/);
});

test("the document is a complete iptables-restore input and deterministic", () => {
  const a = renderServiceRules([echo, { ...echo, name: "other", clusterIP: "10.96.0.11" }]);
  const b = renderServiceRules([
    { ...echo, name: "other", clusterIP: "10.96.0.11" },
    { ...echo, endpoints: [...echo.endpoints].reverse() },
  ]);
  assert.equal(a, b);
  assert.match(a, /^\*nat\n/);
  assert.equal(a.match(/^COMMIT$/gm)?.length, 2);
  // Every chain jumped to is declared.
  for (const [, chain] of a.matchAll(/-j (SHOAL-[\w-]+)/g)) assert.ok(a.includes(`:${chain} - [0:0]`), chain);
});

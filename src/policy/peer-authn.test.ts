// Effective PeerAuthentication mode: levels, precedence, inheritance of UNSET, port-level overrides.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { PeerAuthentication } from "../api/istio/peer-authentication.js";
import type { MtlsMode, PeerAuthnLevel } from "./peer-authn.js";
import { acceptsConnection, effectivePeerAuthn } from "./peer-authn.js";
import { peerAuthn } from "./test-fixtures.js";
import type { Workload } from "./workload.js";

const httpbin: Workload = { namespace: "foo", labels: { app: "httpbin" } };
const mode = (m: "STRICT" | "PERMISSIVE" | "DISABLE" | "UNSET") => ({ mtls: { mode: m } });
const sel = { selector: { matchLabels: { app: "httpbin" } } };
const T1 = "2026-01-01T00:00:00Z";
const T2 = "2026-02-01T00:00:00Z";

test("effective mode: levels and precedence", () => {
  const cases: Array<[string, PeerAuthentication[], MtlsMode, string | undefined, PeerAuthnLevel]> = [
    ["no policy → PERMISSIVE", [], "PERMISSIVE", undefined, "default"],
    [
      "mesh = root namespace, no selector",
      [peerAuthn("istio-system", "default", mode("STRICT"))],
      "STRICT",
      "istio-system/default",
      "mesh",
    ],
    [
      "namespace = no selector",
      [peerAuthn("foo", "default", mode("STRICT"))],
      "STRICT",
      "foo/default",
      "namespace",
    ],
    [
      "another namespace's policy doesn't apply",
      [peerAuthn("bar", "default", mode("STRICT"))],
      "PERMISSIVE",
      undefined,
      "default",
    ],
    [
      "workload = selector",
      [peerAuthn("foo", "w", { ...sel, ...mode("DISABLE") })],
      "DISABLE",
      "foo/w",
      "workload",
    ],
    [
      "selector not matching",
      [peerAuthn("foo", "w", { selector: { matchLabels: { app: "x" } }, ...mode("DISABLE") })],
      "PERMISSIVE",
      undefined,
      "default",
    ],
    [
      "namespace beats mesh",
      [peerAuthn("istio-system", "default", mode("STRICT")), peerAuthn("foo", "default", mode("PERMISSIVE"))],
      "PERMISSIVE",
      "foo/default",
      "namespace",
    ],
    [
      "workload beats namespace and mesh",
      [
        peerAuthn("istio-system", "m", mode("STRICT")),
        peerAuthn("foo", "n", mode("STRICT")),
        peerAuthn("foo", "w", { ...sel, ...mode("DISABLE") }),
      ],
      "DISABLE",
      "foo/w",
      "workload",
    ],
    [
      "same level: oldest wins (regardless of name or input order)",
      [peerAuthn("foo", "a-newer", mode("DISABLE"), T2), peerAuthn("foo", "z-older", mode("STRICT"), T1)],
      "STRICT",
      "foo/z-older",
      "namespace",
    ],
    [
      "same level, same age: name decides",
      [peerAuthn("foo", "b", mode("DISABLE"), T1), peerAuthn("foo", "a", mode("STRICT"), T1)],
      "STRICT",
      "foo/a",
      "namespace",
    ],
    [
      "oldest workload policy wins",
      [
        peerAuthn("foo", "w2", { ...sel, ...mode("DISABLE") }, T2),
        peerAuthn("foo", "w1", { ...sel, ...mode("STRICT") }, T1),
      ],
      "STRICT",
      "foo/w1",
      "workload",
    ],
    [
      "UNSET mesh → PERMISSIVE",
      [peerAuthn("istio-system", "default", mode("UNSET"))],
      "PERMISSIVE",
      undefined,
      "default",
    ],
    [
      "UNSET namespace inherits mesh",
      [peerAuthn("istio-system", "m", mode("STRICT")), peerAuthn("foo", "n", mode("UNSET"))],
      "STRICT",
      "istio-system/m",
      "mesh",
    ],
    [
      "UNSET workload inherits namespace",
      [peerAuthn("foo", "n", mode("DISABLE")), peerAuthn("foo", "w", { ...sel, ...mode("UNSET") })],
      "DISABLE",
      "foo/n",
      "namespace",
    ],
    [
      "no mtls field = UNSET",
      [peerAuthn("istio-system", "m", mode("STRICT")), peerAuthn("foo", "w", { ...sel })],
      "STRICT",
      "istio-system/m",
      "mesh",
    ],
    [
      // Istio ignores root-namespace policies with a selector (pilot skips them when composing), and
      // so do we: they neither act as mesh policy nor as workload policy, not even for root-ns workloads.
      "root-namespace policy WITH selector is ignored",
      [peerAuthn("istio-system", "sel", { ...sel, ...mode("STRICT") })],
      "PERMISSIVE",
      undefined,
      "default",
    ],
  ];
  for (const [name, policies, want, policy, level] of cases) {
    const r = effectivePeerAuthn(policies, httpbin, 8080);
    assert.deepEqual([r.mode, r.policy, r.level], [want, policy, level], name);
  }
});

test("root-namespace selector policy is ignored even for workloads in the root namespace", () => {
  const gw: Workload = { namespace: "istio-system", labels: { app: "httpbin" } };
  const r = effectivePeerAuthn([peerAuthn("istio-system", "sel", { ...sel, ...mode("STRICT") })], gw, 8080);
  assert.equal(r.mode, "PERMISSIVE");
  // A no-selector policy in the root namespace is the mesh policy for root-namespace workloads too.
  assert.equal(effectivePeerAuthn([peerAuthn("istio-system", "d", mode("STRICT"))], gw).level, "mesh");
});

test("the root namespace is configurable", () => {
  const p = [peerAuthn("mesh-root", "default", mode("STRICT"))];
  assert.equal(effectivePeerAuthn(p, httpbin).level, "default");
  assert.equal(effectivePeerAuthn(p, httpbin, undefined, { rootNamespace: "mesh-root" }).mode, "STRICT");
});

test("portLevelMtls (workload policies, target ports) overrides per port; UNSET ports inherit", () => {
  const policies = [
    peerAuthn("foo", "default", mode("STRICT")),
    peerAuthn("foo", "w", {
      ...sel,
      ...mode("UNSET"),
      portLevelMtls: { "8080": { mode: "DISABLE" }, "9090": { mode: "UNSET" } },
    }),
  ];
  const cases: Array<[number | undefined, MtlsMode, boolean, string]> = [
    [8080, "DISABLE", true, "foo/w"],
    [9090, "STRICT", false, "foo/default"], // UNSET port → the workload's (inherited) mode
    [7070, "STRICT", false, "foo/default"], // port not listed (declared or not)
    [undefined, "STRICT", false, "foo/default"],
  ];
  for (const [port, want, portLevel, policy] of cases) {
    const r = effectivePeerAuthn(policies, httpbin, port);
    assert.deepEqual([r.mode, r.portLevel, r.policy], [want, portLevel, policy], `port ${port}`);
  }
  // portLevelMtls on a namespace-wide policy has no effect (validation rejects it; we ignore it).
  const nsOnly = [
    peerAuthn("foo", "default", { ...mode("STRICT"), portLevelMtls: { "8080": { mode: "DISABLE" } } }),
  ];
  assert.equal(effectivePeerAuthn(nsOnly, httpbin, 8080).mode, "STRICT");
});

test("selected reports the policy chosen at every level", () => {
  const r = effectivePeerAuthn(
    [peerAuthn("istio-system", "m", mode("STRICT")), peerAuthn("foo", "n", mode("UNSET"))],
    httpbin,
  );
  assert.deepEqual(r.selected, { mesh: "istio-system/m", namespace: "foo/n" });
  assert.equal(r.reason, "mesh policy istio-system/m: STRICT");
});

test("server side: STRICT rejects plaintext, PERMISSIVE accepts both, DISABLE accepts plaintext only", () => {
  const cases: Array<[MtlsMode, boolean, boolean]> = [
    ["STRICT", true, true],
    ["STRICT", false, false],
    ["PERMISSIVE", true, true],
    ["PERMISSIVE", false, true],
    ["DISABLE", true, false],
    ["DISABLE", false, true],
  ];
  for (const [m, mtls, want] of cases) assert.equal(acceptsConnection(m, mtls), want, `${m} mtls=${mtls}`);
});

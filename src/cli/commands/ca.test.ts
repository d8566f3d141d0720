// `shoal x ca` output: roots with the signing one marked, a rotation in progress with how to continue
// it, each proxy's leaf root, and the rotation report's phases.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCaStatus, formatRotation } from "./ca.js";

const A = "AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA";
const B = "BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB:BB";

test("status: both roots during a rotation, which signs, and which proxies are still under the old root", () => {
  const out = formatCaStatus({
    trustDomain: "cluster.local",
    rotationPhase: "reissue",
    rotationStartedAt: "2026-01-01T00:00:00.000Z",
    signingRoot: B,
    roots: [
      {
        fingerprint: B,
        subject: "O=cluster.local\nCN=Shoal mesh root 2026",
        notAfter: "2036",
        signing: true,
      },
      { fingerprint: A, subject: "O=cluster.local\nCN=Shoal mesh root", notAfter: "2035", signing: false },
    ],
    proxies: [
      { node: "n1", namespace: "foo", pod: "curl-1", root: B, signing: true },
      { node: "n2", namespace: "foo", pod: "httpbin-1", root: A, signing: false },
      { node: "n3", namespace: "foo", pod: "gone-1", error: "cannot reach", signing: false },
    ],
  });
  assert.match(
    out,
    /Rotation: in progress, phase "reissue" since 2026-01-01T00:00:00.000Z \(shoal x ca rotate-root continues it\)/,
  );
  assert.match(out, /BB:BB:BB:BB:BB:BB:BB:BB\s+O=cluster.local, CN=Shoal mesh root 2026\s+2036\s+yes/);
  assert.match(out, /AA:AA:AA:AA:AA:AA:AA:AA\s+O=cluster.local, CN=Shoal mesh root\s+2035\s+no/);
  assert.match(out, /foo\s+httpbin-1\s+AA:AA:AA:AA:AA:AA:AA:AA\s+no/);
  assert.match(out, /foo\s+gone-1\s+\? \(cannot reach\)\s+no/);
});

test("rotation report: one line per phase, and the proxies that had not taken the final bundle", () => {
  const out = formatRotation({
    oldRoot: A,
    newRoot: B,
    phases: [
      { phase: "trust", proxies: 3, ms: 90 },
      { phase: "reissue", proxies: 3, ms: 350 },
      { phase: "drop", proxies: 3, ms: 60 },
    ],
    lagging: ["sidecar~x"],
  });
  assert.equal(
    out,
    [
      "Root rotated: AA:AA:AA:AA:AA:AA:AA:AA -> BB:BB:BB:BB:BB:BB:BB:BB",
      "  trust    both roots trusted on 3 proxies (90 ms)",
      "  reissue  leaves re-issued on 3 proxies (350 ms)",
      "  drop     old root removed on 3 proxies (60 ms)",
      "  not yet acknowledged the final bundle: sidecar~x",
      "",
    ].join("\n"),
  );
});

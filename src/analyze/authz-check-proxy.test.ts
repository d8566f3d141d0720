// `x authz check` agrees with the proxy on path normalization: raw paths (`/a/../b`, `%2e%2e`, `%2f`,
// `//`) go through a real inbound HTTP chain on loopback, and each status is compared with the what-if's
// decision for the same path and the same policies.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { testRoot } from "../ca/test-support.js";
import { startDetailsApp } from "../testing/http-harness.js";
import {
  exchange,
  inboundChain,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import { checkAuthz, findWorkload, formatAuthzCheck } from "./authz-check.js";
import { buildInventory } from "./inventory.js";

const policies = [
  {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "paths", namespace: "foo" },
    spec: {
      selector: { matchLabels: { app: "app" } },
      rules: [
        {
          to: [
            {
              operation: {
                methods: ["GET"],
                paths: ["/public*", "/app//", "/a%2fb", "/b", "/store/{**}/cart"],
              },
            },
          ],
        },
      ],
    },
  },
  {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "no-admin", namespace: "foo" },
    spec: {
      selector: { matchLabels: { app: "app" } },
      action: "DENY",
      rules: [{ to: [{ operation: { paths: ["/public/admin"] } }] }],
    },
  },
];

const RAW_PATHS = [
  "/public",
  "/b",
  "/a/../b",
  "/x/%2e%2e/b",
  "/x/%2E%2E/b",
  "/public/../private",
  "/public/%2e%2e/private",
  "/public/%2E/%2E%2E/private",
  "/public/./../public",
  "/%70ublic", // an unreserved escape (`p`) is decoded
  "/a%2fb",
  "/a%2Fb", // escapes are kept exactly as sent: not the policy's `%2f`
  "/a/b",
  "/app//",
  "/app/",
  "//public",
  "/public//x",
  "/public/admin",
  "/public//admin",
  "/public/x/../admin",
  "/public/%61dmin",
  "/store/a/b/cart",
  "/store/cart",
  "/b?q=/public/admin",
];

test("the what-if and the proxy decide every raw path alike (BASE normalization)", async () => {
  const mesh = await testRoot();
  const server = await testWorkload(mesh, "foo", "app");
  const app = await startDetailsApp();
  after(() => app.close());
  const tp = await startTestProxy(
    testConfig({ chains: [inboundChain(app.port, "PERMISSIVE", "http")], policies }),
    server.identity,
  );
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };

  const inv = buildInventory(policies as unknown as AnyResource[]);
  const workload = findWorkload(inv, { namespace: "foo", labels: { app: "app" } });
  assert.ok(workload);

  const decisions: string[] = [];
  for (const path of RAW_PATHS) {
    const raw = `GET ${path} HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n`;
    const res = await exchange(tp.proxy.ports.inbound, raw);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(res.data)?.[1];
    assert.ok(status === "200" || status === "403", `${path}: unexpected answer ${JSON.stringify(res.data)}`);
    const proxy = status === "200" ? "ALLOW" : "DENY";
    const whatIf = checkAuthz(inv, workload, {
      target: { namespace: "foo", labels: { app: "app" } },
      port: app.port,
      protocol: "http",
      http: { method: "GET", host: "app", path },
    });
    assert.equal(
      whatIf.decision,
      proxy,
      `${path}: what-if ${whatIf.decision} (${whatIf.reason}), proxy ${proxy}`,
    );
    assert.equal(whatIf.path?.normalization, "BASE");
    decisions.push(`${path} ${proxy}`);
  }
  // Both sides could agree and still be wrong: pin the expected answers (Istio's BASE semantics).
  assert.deepEqual(decisions, [
    "/public ALLOW",
    "/b ALLOW",
    "/a/../b ALLOW",
    "/x/%2e%2e/b ALLOW",
    "/x/%2E%2E/b ALLOW",
    "/public/../private DENY",
    "/public/%2e%2e/private DENY",
    "/public/%2E/%2E%2E/private DENY",
    "/public/./../public ALLOW",
    "/%70ublic ALLOW",
    "/a%2fb ALLOW",
    "/a%2Fb DENY",
    "/a/b DENY",
    "/app// ALLOW",
    "/app/ DENY",
    "//public DENY",
    "/public//x ALLOW",
    "/public/admin DENY",
    "/public//admin ALLOW", // BASE keeps `//`: not `/public/admin` (MERGE_SLASHES would deny it)
    "/public/x/../admin DENY",
    "/public/%61dmin DENY",
    "/store/a/b/cart ALLOW",
    "/store/cart DENY",
    "/b?q=/public/admin ALLOW",
  ]);
  // What the application received is the normalized path the policies judged, query kept.
  const seen = app.seen.map((s) => s.path);
  assert.ok(seen.includes("/b"), "`/a/../b` arrives as `/b`");
  assert.ok(seen.includes("/a%2fb"), "`%2f` arrives as sent");
  assert.ok(seen.includes("/app//"), "`//` arrives as sent");
  assert.ok(seen.includes("/b?q=/public/admin"));
});

test("the what-if report says which path the policies were matched against", () => {
  const inv = buildInventory(policies as unknown as AnyResource[]);
  const target = { namespace: "foo", labels: { app: "app" } };
  const workload = findWorkload(inv, target);
  assert.ok(workload);
  const ask = (path: string) =>
    formatAuthzCheck(checkAuthz(inv, workload, { target, port: 8080, protocol: "http", http: { path } }));
  assert.match(ask("/x/%2e%2e/b"), /^path: \/x\/%2e%2e\/b → \/b \(BASE normalization\)$/m);
  assert.match(ask("/app//"), /^path: \/app\/\/ \(BASE normalization leaves it as is\)$/m);
});

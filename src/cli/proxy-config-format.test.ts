import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseProxyConfig } from "../proxy/proxy-config.js";
import type { ProxyConfig } from "../proxy/proxy-config.js";
import {
  formatClusters,
  formatEndpoints,
  formatListeners,
  formatSecrets,
  table,
} from "./proxy-config-format.js";

function goldenConfig(scenario: string, prefix: string): ProxyConfig {
  const dir = join(process.cwd(), "test/golden/translate", scenario);
  const file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith(".json"));
  assert.ok(file, `no ${prefix}* in ${dir}`);
  const parsed = parseProxyConfig(JSON.parse(readFileSync(join(dir, file), "utf8")));
  assert.ok(parsed.ok);
  return parsed.config;
}

test("table aligns columns with three spaces and no trailing blanks", () => {
  assert.equal(table(["A", "LONGER"], [["xx", "y"]]), "A    LONGER\nxx   y\n");
});

test("clusters read like istioctl proxy-config cluster, with --direction filtering", () => {
  const config = goldenConfig("s1-tcp-authz", "curl");
  const out = formatClusters(config);
  const lines = out.trim().split("\n");
  assert.match(lines[0]!, /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE$/);
  assert.ok(
    lines.some((l) => /^tcp-echo\.foo\.svc\.cluster\.local\s+9000\s+-\s+outbound\s+EDS$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /^PassthroughCluster\s+-\s+-\s+-\s+ORIGINAL_DST$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /^BlackHoleCluster\s+-\s+-\s+-\s+STATIC$/.test(l)),
    out,
  );
  const outbound = formatClusters(config, { direction: "outbound" }).trim().split("\n").slice(1);
  assert.ok(outbound.length > 0);
  assert.ok(
    outbound.every((l) => /\soutbound\s/.test(l)),
    outbound.join("\n"),
  );
});

test("listeners show capture ports, per-port inbound chains with their mTLS mode, and outbound by VIP", () => {
  const out = formatListeners(goldenConfig("s1-tcp-authz", "tcp-echo"));
  assert.match(
    out,
    /^0\.0\.0\.0\s+15006\s+Addr: \*:9000; tcp; mTLS PERMISSIVE\s+Cluster: inbound\|9000\|\|$/m,
  );
  assert.match(
    out,
    /^0\.0\.0\.0\s+15006\s+ALL \(passthrough\); tcp; mTLS PERMISSIVE\s+Cluster: InboundPassthroughCluster$/m,
  );
  assert.match(
    out,
    /^\d+\.\d+\.\d+\.\d+\s+9000\s+ALL\s+Cluster: outbound\|9000\|\|tcp-echo\.foo\.svc\.cluster\.local$/m,
  );
  assert.match(formatListeners(goldenConfig("s1-tcp-authz", "tcp-echo"), 9001), /9001/);
  assert.doesNotMatch(formatListeners(goldenConfig("s1-tcp-authz", "tcp-echo"), 9001), /\s9000\s/);
});

test("endpoints list each cluster's addresses; secrets say when the proxy reported none", () => {
  const out = formatEndpoints(goldenConfig("s1-tcp-authz", "curl"));
  assert.match(out, /^ENDPOINT\s+STATUS\s+OUTLIER CHECK\s+CLUSTER$/m);
  assert.match(
    out,
    /^10\.244\.\d+\.\d+:9000\s+HEALTHY\s+OK\s+outbound\|9000\|\|tcp-echo\.foo\.svc\.cluster\.local$/m,
  );
  assert.equal(formatSecrets(undefined), "no certificates reported by the proxy\n");
  assert.match(
    formatSecrets([
      {
        name: "default",
        type: "Cert Chain",
        serialNumber: "ab12",
        notBefore: "x",
        notAfter: "y",
        valid: true,
      },
    ]),
    /^default\s+Cert Chain\s+ACTIVE\s+true\s+ab12\s+y\s+x$/m,
  );
});

test("endpoints reached through the tunnel say HBONE in a TUNNEL column; the others show -", () => {
  const plain = goldenConfig("s1-tcp-authz", "curl");
  assert.doesNotMatch(formatEndpoints(plain), /TUNNEL|HBONE/, "no tunnel, no column");
  const first = plain.clusters.find((c) => c.endpoints.length > 0)!;
  const tunneled: ProxyConfig = {
    ...plain,
    clusters: plain.clusters.map((c) =>
      c === first
        ? { ...c, endpoints: c.endpoints.map((e, i) => (i === 0 ? { ...e, tunnel: { port: 15008 } } : e)) }
        : c,
    ),
  };
  const out = formatEndpoints(tunneled);
  assert.match(out, /^ENDPOINT\s+STATUS\s+OUTLIER CHECK\s+CLUSTER\s+TUNNEL$/m);
  const ep = first.endpoints[0]!;
  const row = out
    .split("\n")
    .find((l) => l.startsWith(`${ep.address}:${ep.port} `) && l.includes(first.name));
  assert.ok(row, out);
  assert.match(row, /\s+HBONE:15008$/);
  const others = out
    .split("\n")
    .slice(1, -1)
    .filter((l) => l !== row);
  assert.ok(others.length > 0 && others.every((l) => / -$/.test(l)), out);
});

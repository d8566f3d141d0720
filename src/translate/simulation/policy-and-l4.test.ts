// DestinationRule traffic policy on clusters (precedence per field group, load balancers, lookup order,
// workloadSelector) and VirtualService tcp / tls routes (ports, subnets, sources, SNI).
import assert from "node:assert/strict";
import { test } from "node:test";
import { podYaml, simulation } from "../../testing/simulation.js";

const BASE = `apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec:
  clusterIP: 10.96.3.1
  selector: {app: db}
  ports: [{port: 80, name: http}, {port: 5432, name: tcp-pg}, {port: 8443, name: tls-admin}]
---
${podYaml({ ns: "data", name: "db-v1", ip: "10.244.3.1", labels: { app: "db", version: "v1" } })}
---
${podYaml({ ns: "data", name: "db-v2", ip: "10.244.3.2", labels: { app: "db", version: "v2" } })}
---
${podYaml({ ns: "app", name: "client", ip: "10.244.4.1", labels: { app: "client" } })}
---
${podYaml({ ns: "app", name: "batch", ip: "10.244.4.2", labels: { app: "batch" } })}`;

const DB = "db.data.svc.cluster.local";
const sim = (...docs: string[]) => simulation([BASE, ...docs].join("\n---\n"));
const clusterOf = (s: ReturnType<typeof sim>, from: string, name: string) =>
  s.config(from).config.clusters.find((c) => c.name === name);

const PRECEDENCE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 100, connectTimeout: 2s}}
    outlierDetection: {consecutive5xxErrors: 7}
    portLevelSettings:
    - port: {number: 5432}
      loadBalancer: {simple: ROUND_ROBIN}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      connectionPool: {http: {http2MaxRequests: 10, maxRetries: 2, idleTimeout: 30s}}
      portLevelSettings:
      - port: {number: 5432}
        loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 10s}}}
  - name: v2
    labels: {version: v2}`;

test("DestinationRule precedence per field group: subset port-level > subset > port-level > top-level", () => {
  const s = sim(PRECEDENCE);
  const top = clusterOf(s, "app/client", `outbound|80||${DB}`)!;
  assert.deepEqual(
    [top.loadBalancer, top.connectionPool, top.connectTimeoutMs, top.outlierDetection?.consecutive5xx],
    [{ policy: "RANDOM" }, { maxConnections: 100 }, 2000, 7],
  );
  assert.deepEqual(clusterOf(s, "app/client", `outbound|5432||${DB}`)?.loadBalancer, {
    policy: "ROUND_ROBIN",
  });
  const v1 = clusterOf(s, "app/client", `outbound|80|v1|${DB}`)!;
  // The subset's connectionPool replaces the whole group (no maxConnections, default connect timeout).
  assert.deepEqual(
    [v1.connectionPool, v1.connectTimeoutMs],
    [{ maxRequests: 10, maxRetries: 2, idleTimeoutMs: 30_000 }, 10_000],
  );
  assert.deepEqual(v1.loadBalancer, { policy: "RANDOM" });
  assert.deepEqual(clusterOf(s, "app/client", `outbound|5432|v1|${DB}`)?.loadBalancer, {
    policy: "ROUND_ROBIN",
    hash: { cookie: { name: "user", ttlMs: 10_000 } },
  });
  assert.deepEqual(clusterOf(s, "app/client", `outbound|5432|v2|${DB}`)?.loadBalancer, {
    policy: "ROUND_ROBIN",
  });
  assert.deepEqual(
    clusterOf(s, "app/client", `outbound|80|v2|${DB}`)?.endpoints.map((e) => e.address),
    ["10.244.3.2"],
  );
});

test("load balancer: LEAST_CONN is LEAST_REQUEST; consistent hash on a header, source IP or query parameter", () => {
  const dr = (lb: string) =>
    sim(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  trafficPolicy:
    loadBalancer: ${lb}`);
  const lbOf = (lb: string) => clusterOf(dr(lb), "app/client", `outbound|80||${DB}`)?.loadBalancer;
  assert.deepEqual(lbOf("{simple: LEAST_CONN}"), { policy: "LEAST_REQUEST" });
  assert.deepEqual(lbOf("{consistentHash: {httpHeaderName: X-User}}")?.hash, { header: "x-user" });
  assert.deepEqual(lbOf("{consistentHash: {useSourceIp: true}}")?.hash, { sourceIp: true });
  assert.deepEqual(lbOf("{consistentHash: {httpQueryParameterName: u}}")?.hash, { queryParam: "u" });
});

test("DestinationRule lookup: the client's namespace first, then the service's; workloadSelector narrows it", () => {
  const rule = (ns: string, name: string, lb: string, selector = "") => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec:
  host: ${DB}
${selector}  trafficPolicy: {loadBalancer: {simple: ${lb}}}`;
  const s = sim(
    rule("data", "producer", "RANDOM"),
    rule("app", "consumer", "ROUND_ROBIN"),
    rule("app", "batch-only", "PASSTHROUGH", "  workloadSelector: {labels: {app: batch}}\n"),
  );
  const lb = (from: string) => clusterOf(s, from, `outbound|80||${DB}`)?.loadBalancer?.policy;
  assert.equal(lb("app/client"), "ROUND_ROBIN");
  assert.equal(lb("app/batch"), "PASSTHROUGH");
  assert.equal(lb("data/db-v1"), "RANDOM");
});

const TCP_VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: data}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432, sourceLabels: {app: batch}}]
    route: [{destination: {host: db, subset: v2}}]
  - match: [{port: 9999}]
    route: [{destination: {host: db, subset: v2, port: {number: 5432}}}]
  - match: [{port: 5432}]
    route:
    - destination: {host: db, subset: v1}
      weight: 70
    - destination: {host: db, subset: v2}
      weight: 30
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]`;

test("tcp routes: match port and sourceLabels decided per proxy, weights kept, destination port from the listener", () => {
  const s = sim(TCP_VS);
  const batch = s.connect("app/batch", { address: "10.96.3.1", port: 5432 });
  assert.deepEqual(
    batch.destinations.map((d) => [d.cluster, d.weight]),
    [[`outbound|5432|v2|${DB}`, 100]],
  );
  const client = s.connect("app/client", { address: "10.96.3.1", port: 5432 });
  assert.deepEqual(
    client.destinations.map((d) => [d.cluster, d.weight, d.endpoints]),
    [
      [`outbound|5432|v1|${DB}`, 70, ["10.244.3.1:5432"]],
      [`outbound|5432|v2|${DB}`, 30, ["10.244.3.2:5432"]],
    ],
  );
  const listener = client.config.outbound.listeners.find((l) => l.name === "10.96.3.1_5432");
  assert.equal(listener?.tcpRoutes.length, 1, "the port-9999 route is not on this port's listener");
});

test("tcp routes: destinationSubnets route by the original destination; no route matches → the service", () => {
  const s = sim(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: data}
spec:
  hosts: [db]
  tcp:
  - match: [{destinationSubnets: [10.96.3.0/24]}]
    route: [{destination: {host: db, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  subsets: [{name: v1, labels: {version: v1}}]`);
  assert.equal(
    s.connect("app/client", { address: "10.96.3.1", port: 5432 }).cluster,
    `outbound|5432|v1|${DB}`,
  );
  const l = s.config("app/client").config.outbound.listeners.find((x) => x.name === "10.96.3.1_5432");
  assert.deepEqual(l?.tcpRoutes[0]?.destinationSubnets, ["10.96.3.0/24"]);
  assert.equal(l?.cluster, `outbound|5432||${DB}`);
});

test("tls routes: SNI routing on a TLS port with the service as fallback", () => {
  const s = sim(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: data}
spec:
  hosts: [db, admin.db.example]
  tls:
  - match: [{port: 8443, sniHosts: [admin.db.example]}]
    route: [{destination: {host: db, subset: v2}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  subsets: [{name: v2, labels: {version: v2}}]`);
  const admin = s.connect("app/client", { address: "10.96.3.1", port: 8443, sni: "admin.db.example" });
  assert.deepEqual(
    [admin.listener, admin.protocol, admin.cluster],
    ["10.96.3.1_8443", "tls", `outbound|8443|v2|${DB}`],
  );
  const other = s.connect("app/client", { address: "10.96.3.1", port: 8443, sni: "other.example" });
  assert.equal(other.cluster, `outbound|8443||${DB}`);
});

test("Sidecar egress: a proxy only knows imported hosts; workloadSelector picks the Sidecar of a workload", () => {
  const s = sim(`apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: app}
spec:
  egress: [{hosts: ["./*"]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: batch, namespace: app}
spec:
  workloadSelector: {labels: {app: batch}}
  egress: [{hosts: ["data/*"]}]`);
  assert.equal(s.request("app/client", { authority: DB, port: 80 }).listener, undefined);
  assert.equal(s.request("app/batch", { authority: DB, port: 80 }).cluster, `outbound|80||${DB}`);
});

test("Sidecar egress with a port: the hosts it imports are known on that port only", () => {
  const s = sim(`apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: app}
spec:
  egress:
  - port: {number: 5432, protocol: TCP, name: pg}
    hosts: ["data/*"]`);
  assert.equal(s.connect("app/client", { address: "10.96.3.1", port: 5432 }).cluster, `outbound|5432||${DB}`);
  assert.equal(s.request("app/client", { authority: DB, port: 80 }).listener, undefined);
  const names = s.config("app/client").config.clusters.map((c) => c.name);
  assert.deepEqual(
    names.filter((n) => n.startsWith("outbound|")),
    [`outbound|5432||${DB}`],
  );
});

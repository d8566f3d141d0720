import assert from "node:assert/strict";
import { test } from "node:test";
import { check } from "./testing.js";

const svc = (spec: string, name = "tcp-echo") =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: foo}\nspec:\n${spec}`;

test("a Service with named ports, a named targetPort and appProtocol is accepted", () => {
  const r = check(
    svc(`  selector: {app: tcp-echo}
  ports:
  - {name: tcp, port: 9000}
  - {name: tcp-other, port: 9001, targetPort: 9001, protocol: TCP}
  - {name: web, port: 80, targetPort: http, appProtocol: http}
`),
  );
  assert.deepEqual(r, { errors: [], warnings: [] });
});

test("headless and ExternalName Services may omit ports; others may not", () => {
  assert.deepEqual(check(svc("  clusterIP: None\n  selector: {app: x}\n")).errors, []);
  assert.deepEqual(check(svc("  type: ExternalName\n  externalName: httpbin.org\n")).errors, []);
  assert.deepEqual(check(svc("  type: ExternalName\n")).errors, [
    "Service foo/tcp-echo: spec.externalName: required for type ExternalName",
  ]);
  assert.deepEqual(check(svc("  selector: {app: x}\n")).errors, [
    "Service foo/tcp-echo: spec.ports: must declare at least one port",
  ]);
});

test("port rules: names set and unique when several, port+protocol unique, nodePort only on NodePort", () => {
  const r = check(
    svc(`  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53}
  - {name: dns, port: 54, nodePort: 30054}
  - {port: 55}
  - {name: other, port: 53, protocol: UDP}
`),
  );
  assert.deepEqual(r.errors, [
    'Service foo/tcp-echo: spec.ports[2].name: duplicate port name "dns" (also spec.ports[0])',
    "Service foo/tcp-echo: spec.ports[2].nodePort: only NodePort and LoadBalancer Services take a nodePort, not ClusterIP",
    "Service foo/tcp-echo: spec.ports[3].name: must be set when a Service has several ports",
    "Service foo/tcp-echo: spec.ports[4].port: duplicate port 53/UDP (also spec.ports[0])",
  ]);
});

test("headless is not allowed for NodePort; the name must start with a letter", () => {
  assert.deepEqual(check(svc("  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]\n", "web")).errors, [
    'Service foo/web: spec.clusterIP: "None" (headless) is not allowed for type NodePort',
  ]);
  assert.match(check(svc("  ports: [{port: 80}]\n", "80-web")).errors[0] ?? "", /not a Service name/);
});

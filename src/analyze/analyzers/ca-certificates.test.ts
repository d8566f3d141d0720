import assert from "node:assert/strict";
import { test } from "node:test";
import { messagesWith } from "./test-support.js";

const dr = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: db-tls, namespace: prod}\nspec:\n  host: mydbserver.prod.svc.cluster.local\n${spec}`;
const both = (yaml: string) => [...messagesWith("IST0128", yaml), ...messagesWith("IST0129", yaml)];

test("IST0128: SIMPLE or MUTUAL at the destination level without caCertificates", () => {
  assert.deepEqual(both(dr("  trafficPolicy: {tls: {mode: SIMPLE}}\n")), [
    "Warning [IST0128] (DestinationRule prod/db-tls) DestinationRule prod/db-tls in namespace prod has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: mydbserver.prod.svc.cluster.local",
  ]);
  assert.equal(
    both(dr("  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}}\n"))
      .length,
    1,
  );
});

test("IST0129: the same per port; both levels report independently", () => {
  const out = both(
    dr(`  trafficPolicy:
    tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}
    portLevelSettings:
    - {port: {number: 443}, tls: {mode: SIMPLE}}
`),
  );
  assert.deepEqual(out, [
    "Warning [IST0128] (DestinationRule prod/db-tls) DestinationRule prod/db-tls in namespace prod has TLS mode set to MUTUAL but no caCertificates are set to validate server identity for host: mydbserver.prod.svc.cluster.local",
    "Warning [IST0129] (DestinationRule prod/db-tls) DestinationRule prod/db-tls in namespace prod has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: mydbserver.prod.svc.cluster.local at port number:443",
  ]);
});

test("no message: caCertificates set, ISTIO_MUTUAL/DISABLE, or credentialName on a rule with a workloadSelector", () => {
  assert.deepEqual(
    both(
      dr(`  trafficPolicy:
    tls: {mode: SIMPLE, caCertificates: /ca.pem}
    portLevelSettings: [{port: {number: 443}, tls: {mode: MUTUAL, clientCertificate: /c, privateKey: /k, caCertificates: /ca}}]
`),
    ),
    [],
  );
  assert.deepEqual(both(dr("  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n")), []);
  assert.deepEqual(
    both(
      dr(
        "  workloadSelector: {labels: {app: db}}\n  trafficPolicy: {tls: {mode: SIMPLE, credentialName: db-ca}}\n",
      ),
    ),
    [],
  );
  // Without a workloadSelector the credentialName does not count.
  assert.equal(both(dr("  trafficPolicy: {tls: {mode: SIMPLE, credentialName: db-ca}}\n")).length, 1);
});

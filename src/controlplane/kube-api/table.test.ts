import assert from "node:assert/strict";
import { test } from "node:test";
import { resourceOfKind } from "./catalog.js";
import { humanDuration, toTable } from "./table.js";

test("ages read as kubectl prints them", () => {
  const s = 1000;
  assert.deepEqual(
    [45 * s, 200 * s, 600 * s, 5 * 3600 * s + 60 * s, 30 * 3600 * s, 3 * 86400 * s, 400 * 86400 * s].map(
      humanDuration,
    ),
    ["45s", "3m20s", "10m", "5h1m", "30h", "3d", "400d"],
  );
});

test("a VirtualService row has the CRD's printer columns; pods' wide columns have priority 1", () => {
  const vs = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "r", namespace: "foo", creationTimestamp: new Date(0).toISOString() },
    spec: { hosts: ["reviews"], gateways: ["gw"] },
  };
  const t = toTable(resourceOfKind("VirtualService")!, [vs], { include: "Metadata", now: 60_000 }) as {
    columnDefinitions: Array<{ name: string; priority: number }>;
    rows: Array<{ cells: unknown[]; object: { kind: string } }>;
  };
  assert.deepEqual(
    t.columnDefinitions.map((c) => c.name),
    ["Name", "Gateways", "Hosts", "Age"],
  );
  assert.deepEqual(t.rows[0]!.cells, ["r", '["gw"]', '["reviews"]', "60s"]);
  assert.equal(t.rows[0]!.object.kind, "PartialObjectMetadata");
  const pods = toTable(resourceOfKind("Pod")!, [], { include: "None" }) as {
    columnDefinitions: Array<{ name: string; priority: number }>;
  };
  assert.deepEqual(
    pods.columnDefinitions.filter((c) => c.priority === 1).map((c) => c.name),
    ["IP", "Node", "Nominated Node", "Readiness Gates"],
  );
});

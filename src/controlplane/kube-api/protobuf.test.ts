import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeKubeProtobuf } from "./protobuf.js";
import { StatusError } from "./status.js";

/** Protobuf writer for the test: length-delimited fields only. */
function field(no: number, value: Buffer | string): Buffer {
  const body = typeof value === "string" ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from([(no << 3) | 2, body.length]), body]);
}

/** A small varint field (value below 128). */
function small(no: number, value: number): Buffer {
  return Buffer.from([no << 3, value]);
}

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([field(1, apiVersion), field(2, kind)]);
  return Buffer.concat([Buffer.from("k8s\0", "latin1"), field(1, typeMeta), field(2, raw)]);
}

test("a protobuf Namespace from kubectl create namespace decodes to its JSON form", () => {
  const meta = Buffer.concat([field(1, "foo"), field(11, Buffer.concat([field(1, "team"), field(2, "a")]))]);
  const obj = decodeKubeProtobuf(
    envelope("v1", "Namespace", Buffer.concat([field(1, meta), field(2, Buffer.alloc(0))])),
  );
  assert.deepEqual(obj, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "foo", labels: { team: "a" } },
  });
});

test("a ConfigMap's data decodes; kinds without a decoder are a 415", () => {
  const data = field(2, Buffer.concat([field(1, "k"), field(2, "v")]));
  const obj = decodeKubeProtobuf(
    envelope("v1", "ConfigMap", Buffer.concat([field(1, field(1, "cm")), data])),
  );
  assert.deepEqual(obj["data"], { k: "v" });
  assert.throws(
    () => decodeKubeProtobuf(envelope("batch/v1", "Job", Buffer.alloc(0))),
    (e) => e instanceof StatusError && e.status.code === 415,
  );
  assert.throws(
    () => decodeKubeProtobuf(Buffer.from("{}")),
    (e) => e instanceof StatusError && e.status.code === 415,
  );
});

test("a protobuf Deployment from kubectl create deployment decodes to the JSON kubectl would send", () => {
  const labels = field(11, Buffer.concat([field(1, "app"), field(2, "web")]));
  const ctr = Buffer.concat([
    field(1, "nginx"),
    field(2, "nginx:1"),
    field(3, "sleep"),
    field(3, "1d"),
    field(6, Buffer.concat([small(3, 80), field(4, "TCP")])),
    field(8, Buffer.alloc(0)),
    field(14, ""),
  ]);
  const template = Buffer.concat([field(1, labels), field(2, Buffer.concat([field(2, ctr), field(3, "")]))]);
  const spec = Buffer.concat([
    small(1, 2),
    field(2, field(1, Buffer.concat([field(1, "app"), field(2, "web")]))),
    field(3, template),
    field(4, Buffer.alloc(0)),
    small(5, 0),
  ]);
  const obj = decodeKubeProtobuf(
    envelope(
      "apps/v1",
      "Deployment",
      Buffer.concat([field(1, Buffer.concat([field(1, "web"), labels])), field(2, spec)]),
    ),
  );
  assert.deepEqual(obj, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1",
              command: ["sleep", "1d"],
              ports: [{ containerPort: 80, protocol: "TCP" }],
            },
          ],
        },
      },
    },
  });
});

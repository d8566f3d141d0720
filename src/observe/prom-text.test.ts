import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePrometheusText } from "./prom-text.js";

test("samples with labels, escapes and no labels; comments and junk skipped", () => {
  const text = [
    "# HELP istio_requests_total Total requests.",
    "# TYPE istio_requests_total counter",
    'istio_requests_total{reporter="destination",source_workload="curl",response_code="200"} 3',
    'odd{path="a\\"b\\\\c\\nd"} 1.5 1700000000000',
    "up 1",
    "this is not a sample",
    'broken{a="x} 2',
  ].join("\n");
  assert.deepEqual(parsePrometheusText(text), [
    {
      name: "istio_requests_total",
      labels: { reporter: "destination", source_workload: "curl", response_code: "200" },
      value: 3,
    },
    { name: "odd", labels: { path: 'a"b\\c\nd' }, value: 1.5 },
    { name: "up", labels: {}, value: 1 },
  ]);
});

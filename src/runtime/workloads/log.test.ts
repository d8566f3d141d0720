import assert from "node:assert/strict";
import { test } from "node:test";

import { createLogger, formatEvent } from "./log.js";

test("an event is one line: time, workload, event, then fields; values with spaces are quoted", () => {
  const line = formatEvent(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), "tcp-echo", "request", {
    port: 9000,
    line: "port 9000",
    skipped: undefined,
    ok: true,
  });
  assert.equal(
    line,
    '2026-01-02T03:04:05.000Z workload=tcp-echo event=request port=9000 line="port 9000" ok=true',
  );
});

test("control characters never break the one-line rule", () => {
  const lines: string[] = [];
  createLogger("httpbin", (l) => lines.push(l))("request", { path: "/a\nb" });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes("\n"));
  assert.ok(lines[0]!.endsWith('path="/a\\nb"'));
});

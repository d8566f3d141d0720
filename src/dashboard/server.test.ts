import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startDashboardServer } from "./server.js";
import type { DashboardState } from "./state.js";
import type { WhatIfRequest } from "./what-if.js";

const state = (n: number): DashboardState => ({
  at: new Date(n).toISOString(),
  namespaces: ["foo"],
  graph: { nodes: [], edges: [] },
  workloads: [],
  report: { workloads: [] },
  sources: [],
});

test("serves the UI, the state, live updates and what-if answers", async (t) => {
  const assets = await mkdtemp(join(tmpdir(), "shoal-dash-"));
  t.after(() => rm(assets, { recursive: true, force: true }));
  await writeFile(join(assets, "index.html"), "<html>ui</html>");
  await writeFile(join(assets, "app.js"), "console.log(1)");
  let calls = 0;
  const asked: WhatIfRequest[] = [];
  const dash = await startDashboardServer({
    assetsDir: assets,
    intervalMs: 20,
    source: {
      state: async () => state(++calls),
      whatIf: async (q) => {
        asked.push(q);
        return {
          decision: "DENY",
          policy: "foo/p",
          rule: 1,
          reason: "r",
          mtlsMode: "PERMISSIVE",
          rbacDetails: null,
          protocol: "http",
          applied: [],
        };
      },
    },
  });
  t.after(() => dash.close());
  assert.match(dash.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const index = await fetch(dash.url);
  assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(await index.text(), "<html>ui</html>");
  assert.equal(
    (await fetch(`${dash.url}app.js`)).headers.get("content-type"),
    "text/javascript; charset=utf-8",
  );
  assert.equal((await fetch(`${dash.url}../etc/passwd`)).status, 404);
  const s = (await (await fetch(`${dash.url}api/state`)).json()) as DashboardState;
  assert.deepEqual(s.namespaces, ["foo"]);
  const answer = await fetch(`${dash.url}api/what-if`, {
    method: "POST",
    body: JSON.stringify({ namespace: "foo", pod: "p", port: 80 }),
  });
  assert.equal(((await answer.json()) as { policy: string }).policy, "foo/p");
  assert.deepEqual(asked, [{ namespace: "foo", pod: "p", port: 80 }]);

  // Two state events arrive on the event stream, each newer than the last.
  const frames = await new Promise<string[]>((resolve, reject) => {
    const got: string[] = [];
    const req = request(`${dash.url}api/events`, (res) => {
      let buf = "";
      res.on("data", (c: Buffer) => {
        buf += c.toString();
        for (const m of buf.matchAll(/event: state\ndata: (.*)\n\n/g)) got.push(m[1] as string);
        buf = buf.slice(buf.lastIndexOf("\n\n") + 2);
        if (got.length >= 2) {
          req.destroy();
          resolve(got);
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
  const ats = frames.map((f) => (JSON.parse(f) as DashboardState).at);
  assert.ok(ats[1]! > ats[0]!, "a later state follows the first");
});

// Authorization engine throughput: compile time and evaluations/s (with p99 per evaluation) for 1, 100
// and 10 000 policies that select the workload, and for 10 000 policies that don't (evaluation cost must
// not grow with those). Two rule shapes: `keyed` rules name exact principals (the rule index files them
// by peer), `open` rules use namespaces/paths/headers only, so every rule is tried (linear worst case).
// Run: npx tsc -p tsconfig.json && node dist/bench/authz.js
import type { AuthorizationPolicy } from "../src/api/istio/authorization-policy.js";
import { compileAuthz } from "../src/policy/authz-compile.js";
import { evaluate } from "../src/policy/authz-evaluate.js";
import type { AuthzRequest } from "../src/policy/authz-types.js";
import type { Workload } from "../src/policy/workload.js";

const workload: Workload = { namespace: "foo", labels: { app: "httpbin", version: "v1" } };
const BUDGET_MS = 1000; // per case, evaluation phase
const MAX_EVALS = 200_000;

type Shape = "keyed" | "open";

function policy(i: number, ns: string, app: string, shape: Shape = "keyed"): AuthorizationPolicy {
  const id = String(i).padStart(5, "0");
  const source =
    shape === "keyed"
      ? { principals: [`cluster.local/ns/foo/sa/sa-${id}`], ipBlocks: ["10.244.0.0/16"] }
      : { namespaces: ["foo", "bar"], ipBlocks: ["10.244.0.0/16"] };
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: `p-${id}`, namespace: ns },
    spec: {
      selector: { matchLabels: { app } },
      action: "ALLOW",
      rules: [
        {
          from: [{ source }],
          to: [{ operation: { methods: ["GET", "HEAD"], paths: [`/api/${id}/*`, `/v1/${id}/{*}/items`] } }],
          when: [{ key: "request.headers[x-tenant]", values: [`t-${id}`, "shared*"] }],
        },
      ],
    },
  };
}

/** A request that only the last applicable policy matches: every rule is tried (worst case). */
function request(last: number): AuthzRequest {
  const id = String(last).padStart(5, "0");
  return {
    destination: { namespace: "foo", port: 8080, protocol: "http", ip: "10.244.0.9" },
    source: { principal: `cluster.local/ns/foo/sa/sa-${id}`, ip: "10.244.1.7" },
    http: {
      method: "GET",
      host: "httpbin.foo",
      path: `/api/${id}/x?y=1`,
      headers: { "x-tenant": `t-${id}` },
    },
  };
}

function run(label: string, policies: AuthorizationPolicy[], req: AuthzRequest) {
  const t0 = performance.now();
  const index = compileAuthz(policies, workload);
  const compileMs = performance.now() - t0;
  const first = evaluate(index, req);
  if (!first.allow) throw new Error(`${label}: expected allow, got ${first.reason}`);
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < MAX_EVALS && performance.now() - start < BUDGET_MS) {
    const s = performance.now();
    evaluate(index, req);
    samples.push(performance.now() - s);
  }
  const total = performance.now() - start;
  samples.sort((a, b) => a - b);
  const p99 = samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))] ?? 0;
  return {
    case: label,
    policies: policies.length,
    applied: index.applied.length,
    "compile ms": compileMs.toFixed(1),
    "evals/s": Math.round(samples.length / (total / 1000)),
    "p99 µs": (p99 * 1000).toFixed(1),
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const rows = [];
for (const shape of ["keyed", "open"] as const)
  for (const n of [1, 100, 10_000])
    rows.push(
      run(
        `${n} selecting, ${shape}`,
        range(n).map((i) => policy(i, "foo", "httpbin", shape)),
        request(n - 1),
      ),
    );
// 10 000 policies that do not apply (other namespaces, or a selector that doesn't match) + 1 that does.
const foreign = range(10_000).map((i) =>
  i % 2 === 0 ? policy(i, `ns-${i % 50}`, "httpbin") : policy(i, "foo", "other"),
);
rows.push(run("10000 not applying + 1", [...foreign, policy(99_999, "foo", "httpbin")], request(99_999)));
const foreignOpen = range(10_000).map((i) =>
  policy(i, i % 2 === 0 ? `ns-${i % 50}` : "foo", i % 2 === 0 ? "httpbin" : "other", "open"),
);
rows.push(
  run(
    "10000 not applying + 1, open",
    [...foreignOpen, policy(99_999, "foo", "httpbin", "open")],
    request(99_999),
  ),
);
console.table(rows);

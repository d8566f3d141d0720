// Benchmark: leaf certificates issued per second (CSR parse + signature check + sign), median of rounds,
// beside a same-run reference (one raw ECDSA P-256 verify + sign on node:crypto) and the CPU steal.
// Run: npx tsc -p tsconfig.json && node dist/bench/ca.js
import { generateKeyPairSync, sign, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { createMeshRoot } from "../src/ca/authority.js";
import { generateTokenSigningKey, mintBootstrapToken } from "../src/ca/bootstrap-token.js";
import { createCaService } from "../src/ca/ca-service.js";
import { generateCsr } from "../src/ca/csr.js";
import { issue } from "../src/ca/issue.js";

const ROUNDS = 5;
const PER_ROUND = 300;
const BUDGET_MS = 18_000;

function cpuTimes(): { steal: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { steal: fields[7] ?? 0, total: fields.reduce((a, b) => a + b, 0) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function rounds(label: string, op: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const rates: number[] = [];
  const steals: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (performance.now() - started > BUDGET_MS) break;
    const c0 = cpuTimes();
    const t0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) await op(i);
    const ms = performance.now() - t0;
    const c1 = cpuTimes();
    rates.push((PER_ROUND * 1000) / ms);
    steals.push((100 * (c1.steal - c0.steal)) / Math.max(1, c1.total - c0.total));
  }
  const med = median(rates);
  console.log(
    `${label.padEnd(44)} median ${med.toFixed(0).padStart(6)}/s  rounds [${rates.map((r) => r.toFixed(0)).join(", ")}]  steal% [${steals.map((s) => s.toFixed(0)).join(", ")}]`,
  );
  return med;
}

const started = performance.now();
const now = new Date();
const { authority } = await createMeshRoot({ now });
const cp = generateTokenSigningKey();
const csrs = await Promise.all(Array.from({ length: PER_ROUND }, () => generateCsr()));
const tokens = csrs.map((_, i) =>
  mintBootstrapToken({
    signingKey: cp.privateKey,
    namespace: "bench",
    serviceAccount: `sa-${i}`,
    pod: `p-${i}`,
    now,
  }),
);
const service = createCaService({ authority, tokenKeys: [cp.publicKey], clock: () => now });
const id = { trustDomain: "cluster.local", namespace: "bench", serviceAccount: "svc" };

const ref = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const data = Buffer.alloc(300, 7);
const refSig = sign("sha256", data, ref.privateKey);

console.log(`Shoal CA bench: ${ROUNDS} rounds x ${PER_ROUND} ops, node ${process.version}`);
const reference = await rounds("reference: raw ECDSA P-256 verify + sign", () => {
  verify("sha256", data, ref.publicKey, refSig);
  sign("sha256", data, ref.privateKey);
});
const leaf = await rounds("issue(): CSR verify + sign a leaf", (i) =>
  issue(authority, csrs[i]!.csrPem, id, now),
);
const full = await rounds("service: token verify + CSR verify + sign", (i) =>
  service.sign(csrs[i]!.csrPem, tokens[i]!),
);
console.log(
  `ratios to reference: issue ${(leaf / reference).toFixed(3)}, service ${(full / reference).toFixed(3)}; total ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

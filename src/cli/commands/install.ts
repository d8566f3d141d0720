// `shoal install [--set profile=demo|default|minimal] [-f iop.yaml] [-y]`, like `istioctl install`:
// creates the profile's gateways (istio-ingressgateway; for demo also istio-egressgateway) through the
// same apply path as `shoal apply`, so injection turns their pods into gateway proxies, then waits for
// them to run.
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { formatDiagnostic } from "../../api/diagnostic.js";
import { OPERATOR_OPTIONS, generateFromArgs } from "../../install/cli-input.js";
import type { Generated } from "../../install/generate.js";
import { DaemonClient } from "../daemon-client.js";
import type { CliIo, Command } from "../io.js";
import { UsageError } from "../io.js";

const READY_TIMEOUT_MS = 60_000;

const LABEL: Record<string, string> = {
  IngressGateways: "Ingress gateways",
  EgressGateways: "Egress gateways",
};

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Waits until every gateway Deployment has its replicas Running; returns the ones that did not. */
async function waitReady(client: DaemonClient, g: Generated, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const late: string[] = [];
    for (const c of g.components)
      for (const o of c.objects) {
        if (o["kind"] !== "Deployment") continue;
        const meta = o["metadata"] as { name: string; namespace: string };
        const spec = o["spec"] as { replicas: number; selector: { matchLabels: Record<string, string> } };
        const selector = Object.entries(spec.selector.matchLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(",");
        const pods = await client.list({ kind: "Pod", namespace: meta.namespace, selector });
        const running = pods.filter((p) => (p["status"] as { phase?: string })?.phase === "Running");
        if (running.length < spec.replicas) late.push(`${meta.namespace}/${meta.name}`);
      }
    if (late.length === 0 || Date.now() > deadline) return late;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Applies the generated objects (creating missing namespaces first); false after printing errors. */
export async function applyGenerated(client: DaemonClient, g: Generated, io: CliIo): Promise<boolean> {
  const namespaces = new Set(
    g.components.flatMap((c) => c.objects.map((o) => (o["metadata"] as { namespace: string }).namespace)),
  );
  const documents = [];
  for (const ns of namespaces)
    if (!(await client.get({ kind: "Namespace", name: ns })))
      documents.push({
        text: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }),
        source: "install",
      });
  for (const c of g.components)
    documents.push({ text: c.objects.map((o) => JSON.stringify(o)).join("\n---\n"), source: c.component });
  const result = await client.apply({ documents });
  for (const w of result.warnings) io.stderr(`Warning: ${formatDiagnostic(w)}\n`);
  for (const e of result.errors) io.stderr(`Error: ${formatDiagnostic(e)}\n`);
  return result.errors.length === 0;
}

export const installCommand: Command = {
  path: ["install"],
  summary: "Install the gateways of an Istio profile or IstioOperator (like istioctl install)",
  usage: `Usage: shoal install [--set profile=default|demo|minimal|empty] [-f IOP.yaml ...] [--set PATH=VALUE ...] [-r REVISION] [-y]

Creates the profile's gateways as Service + Deployment + ServiceAccount: istio-ingressgateway (default,
demo) and istio-egressgateway (demo) in istio-system, or the gateways an IstioOperator file lists.
The control plane is the running cluster's daemon; nothing else is installed.

  -y, --skip-confirmation   do not ask before installing`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: { ...OPERATOR_OPTIONS, "skip-confirmation": { type: "boolean", short: "y", default: false } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const g = await generateFromArgs(values, io);
    if (!g) return 1;
    if (
      !values["skip-confirmation"] &&
      !(await confirm(
        `This will install the Istio ${g.plan.profile} profile's gateways into the cluster. Proceed? (y/N) `,
      ))
    ) {
      io.stderr("Cancelled.\n");
      return 1;
    }
    const client = new DaemonClient();
    if (!(await applyGenerated(client, g, io))) return 1;
    const late = await waitReady(client, g, READY_TIMEOUT_MS);
    for (const c of g.components) {
      const names = c.objects.filter((o) => o["kind"] === "Deployment");
      const failed = names.some((o) =>
        late.some((l) => l.endsWith(`/${(o["metadata"] as { name: string }).name}`)),
      );
      io.stdout(
        `${failed ? "✘" : "✔"} ${LABEL[c.component] ?? c.component} ${failed ? "not ready" : "installed"}\n`,
      );
    }
    if (late.length > 0) {
      io.stderr(`Error: not running after ${READY_TIMEOUT_MS / 1000}s: ${late.join(", ")}\n`);
      return 1;
    }
    io.stdout("✔ Installation complete\n");
    return 0;
  },
};

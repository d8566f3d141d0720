// `shoal x authz check`: offline what-if for authorization. Would this request to this workload be
// allowed, which policy and rule decided, and why each applying rule matched, was dropped or narrowed.
import { parseArgs } from "node:util";
import type { AuthzQuery, AuthzTarget } from "../../analyze/authz-check.js";
import { checkAuthz, findWorkload, formatAuthzCheck } from "../../analyze/authz-check.js";
import { buildInventory } from "../../analyze/inventory.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { meshArgs } from "./mesh-args.js";
import { parseLabels, parseNameNs, parsePort, readResources } from "./what-if-input.js";

const USAGE = `Usage: shoal x authz check -f FILE|DIR ... (--pod NAME.NS | --namespace NS --labels k=v,...) --port N
         [--protocol tcp|http] [--from-principal cluster.local/ns/X/sa/Y | --plaintext]
         [--source-ip IP] [--remote-ip IP] [--method M] [--path P] [--host H] [--header k=v]... [--sni S]
         [-n NS] [-o json] [--mesh-config FILE]... [--set meshConfig.X=V]...

Decides one request the way the workload's sidecar would, from the manifests given, and explains why.
  --pod NAME.NS       a Pod or Deployment in the manifests (resources without a namespace are taken to be in NS)
  --port N            the workload (target) port, as AuthorizationPolicy ports and portLevelMtls use it
  --protocol          default: what the Service declaring the port says (name prefix / appProtocol), else tcp
  --from-principal    the client's identity (mTLS); --plaintext for a client without a sidecar (the default)
  -n NS               namespace for resources that name none (default: the target's namespace)
  -o json             {"decision","policy","rule","reason","mtlsMode","trace",...}
  --mesh-config FILE  mesh settings (an IstioOperator, the istio ConfigMap, or a meshConfig mapping; \`shoal x
                      mesh-config\` prints the cluster's); default: the istio ConfigMap among the manifests
  --set meshConfig.X=V  one mesh setting, over the ones above (e.g. meshConfig.pathNormalization.normalization=MERGE_SLASHES)`;

export const authzCheckCommand: Command = {
  path: ["x", "authz", "check"],
  summary: "what-if: would this request be allowed, and which rule decided",
  usage: USAGE,
  async run(args, io) {
    const { values: v } = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        pod: { type: "string" },
        namespace: { type: "string" },
        labels: { type: "string" },
        port: { type: "string" },
        protocol: { type: "string" },
        "from-principal": { type: "string" },
        plaintext: { type: "boolean" },
        "source-ip": { type: "string" },
        "remote-ip": { type: "string" },
        method: { type: "string" },
        path: { type: "string" },
        host: { type: "string" },
        header: { type: "string", multiple: true },
        sni: { type: "string" },
        n: { type: "string", short: "n" },
        output: { type: "string", short: "o" },
        "mesh-config": { type: "string", multiple: true },
        set: { type: "string", multiple: true },
      },
      strict: true,
    });
    if (!v.filename?.length) throw new UsageError("give at least one -f FILE|DIR|-");
    if (v["from-principal"] && v.plaintext)
      throw new UsageError("--from-principal and --plaintext exclude each other");
    if (v.protocol !== undefined && v.protocol !== "tcp" && v.protocol !== "http")
      throw new UsageError(`--protocol must be tcp or http, not "${v.protocol}"`);
    if (v.output !== undefined && v.output !== "json")
      throw new UsageError(`unknown output format "${v.output}"`);
    let target: AuthzTarget;
    if (v.pod) {
      const { name, namespace } = parseNameNs(v.pod, "--pod", "NAME");
      target = { pod: name, namespace };
    } else if (v.namespace) target = { namespace: v.namespace, labels: parseLabels(v.labels ?? "") };
    else throw new UsageError("give --pod NAME.NS, or --namespace NS with --labels");
    if (v.port === undefined) throw new UsageError("--port is required");
    const port = parsePort(v.port, "--port");
    const headers: Record<string, string> = {};
    for (const h of v.header ?? []) {
      const eq = h.indexOf("=");
      if (eq <= 0) throw new UsageError(`--header: "${h}" is not name=value`);
      headers[h.slice(0, eq).toLowerCase()] = h.slice(eq + 1);
    }

    const resources = await readResources(v.filename, io, v.n ?? target.namespace);
    if (!resources) return 1;
    const inv = buildInventory(resources);
    const workload = findWorkload(inv, target);
    if (!workload) {
      const known = inv.workloads.map((w) => `${w.name}.${w.namespace}`).join(", ") || "none";
      io.stderr(
        `Error: no Pod or Deployment "${"pod" in target ? `${target.pod}.${target.namespace}` : ""}" in the manifests (found: ${known})\n`,
      );
      return 1;
    }
    const query: AuthzQuery = {
      target,
      port,
      protocol: v.protocol as "tcp" | "http" | undefined,
      principal: v["from-principal"],
      sourceIp: v["source-ip"],
      remoteIp: v["remote-ip"],
      sni: v.sni,
      http: { method: v.method, path: v.path, host: v.host, headers },
    };
    const mesh = await meshArgs(v["mesh-config"], v.set, resources, io);
    if (!mesh) return 1;
    const result = checkAuthz(inv, workload, query, mesh);
    if (v.output === "json") {
      const { decision, policy, rule, reason, mtlsMode, trace } = result;
      io.stdout(
        `${JSON.stringify({ decision, policy, rule, reason, mtlsMode, trace, details: result }, null, 2)}\n`,
      );
    } else io.stdout(formatAuthzCheck(result));
    return 0;
  },
};

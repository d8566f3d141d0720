// `shoal analyze`: offline analysis of manifest files, printed like `istioctl analyze`.
import { parseArgs } from "node:util";
import { analyzeDocuments, analyzeStored } from "../../analyze/analyze.js";
import type { AnalysisMessage } from "../../analyze/message.js";
import { formatMessage } from "../../analyze/message.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { readManifestInputs } from "../manifest-input.js";

const USAGE = `Usage: shoal analyze [-f FILE|DIR|- ...] [-n NAMESPACE | -A] [-o json]

Validates the manifests and reports problems the way istioctl analyze does: schema errors (IST0106),
references to missing gateways, hosts, ports, subsets and namespaces (IST0101), VirtualServices for the
mesh that share a host (IST0109), Service port names Istio cannot read a protocol from (IST0118),
selectors that match no workload (IST0127), TLS origination without caCertificates (IST0128/IST0129),
unreachable routes and ineffective matches (IST0130/IST0131), authorization rules whose HTTP-only fields
land on TCP ports (SHOAL0101), and fields or kinds Shoal stores but does not implement yet (SHOAL0002).
Exits 1 when there is an error.
Without -f it analyzes the running local cluster (namespace default unless -n or -A), like istioctl.

  -f, --filename      file, directory (searched recursively) or - for stdin; repeatable
  -n, --namespace     report on this namespace (also the namespace of resources that name none)
  -A, --all-namespaces  report on every namespace (the default for files)
  -o, --output        json for machine-readable output
      --use-kube[=BOOL]  istioctl's switch: false analyzes the files alone (needs -f), as Shoal does with -f
      --revision REV    accepted for istioctl compatibility (Shoal runs one control plane)`;

/** istioctl's `--use-kube`, `--use-kube=true|false`: taken out of the arguments; undefined when absent. */
export function takeUseKube(args: string[]): { rest: string[]; useKube: boolean | undefined } {
  let useKube: boolean | undefined;
  const rest = args.filter((a) => {
    const m = a.match(/^--use-kube(?:=(true|false))?$/);
    if (!m) return true;
    useKube = m[1] !== "false";
    return false;
  });
  return { rest, useKube };
}

export const analyzeCommand: Command = {
  path: ["analyze"],
  summary: "analyze manifests for problems, like istioctl analyze",
  usage: USAGE,
  async run(argv, io) {
    const { rest: args, useKube } = takeUseKube(argv);
    const { values } = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        namespace: { type: "string", short: "n" },
        "all-namespaces": { type: "boolean", short: "A" },
        output: { type: "string", short: "o" },
        revision: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    const files = values.filename ?? [];
    if (useKube === false && files.length === 0)
      throw new UsageError("--use-kube=false needs files to analyze (-f)");
    if (values.namespace && values["all-namespaces"])
      throw new UsageError("-n and -A cannot be used together");
    if (values.output !== undefined && values.output !== "json")
      throw new UsageError(`unknown output format "${values.output}" (use json)`);
    let namespace: string | undefined;
    let messages: AnalysisMessage[];
    if (files.length > 0) {
      // Files: every namespace in them unless -n narrows it.
      namespace = values["all-namespaces"] ? undefined : values.namespace;
      const input = await readManifestInputs(files, io);
      messages = analyzeDocuments(input.documents, input.errors, { namespace }).messages;
    } else {
      // The live cluster: what apply stored (already validated); istioctl's default namespace is default.
      namespace = values["all-namespaces"] ? undefined : (values.namespace ?? "default");
      messages = analyzeStored(await new DaemonClient().list({}), { namespace });
    }
    const failed = messages.some((m) => m.level === "Error");
    if (values.output === "json") {
      const rows = messages.map((m) => ({
        code: m.code,
        level: m.level,
        message: m.text,
        name: m.name,
        origin: `${m.resource.kind} ${m.resource.namespace ? `${m.resource.namespace}/` : ""}${m.resource.name}`,
        reference: m.origin,
      }));
      io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      return failed ? 1 : 0;
    }
    if (messages.length === 0) {
      const scope = namespace ? `namespace: ${namespace}` : "all namespaces";
      io.stdout(`\u2714 No validation issues found when analyzing ${scope}.\n`);
      return 0;
    }
    for (const m of messages) io.stdout(`${formatMessage(m)}\n`);
    return failed ? 1 : 0;
  },
};

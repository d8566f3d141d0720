// `shoal manifest generate [-f iop.yaml] [--set k=v] [--output DIR] [--cluster-specific]`, like istioctl:
// prints the objects `shoal install` would apply, or writes one file per component under DIR (so
// `shoal apply -f DIR` or `kubectl apply --recursive -f DIR` installs them).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { toYaml } from "../../install/generate.js";
import { OPERATOR_OPTIONS, generateFromArgs } from "../../install/cli-input.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";

export const manifestGenerateCommand: Command = {
  path: ["manifest", "generate"],
  summary: "Print (or write to a directory) the gateway manifests of an IstioOperator",
  usage: `Usage: shoal manifest generate [-f IOP.yaml ...] [--set PATH=VALUE ...] [-r REVISION] [-o DIR] [--cluster-specific]

  -f, --filename        IstioOperator file(s), overlaid in order (- for stdin)
  -s, --set             an IstioOperator spec field, e.g. profile=demo or
                        values.gateways.istio-egressgateway.type=ClusterIP
  -r, --revision        the control plane revision the gateways belong to
  -o, --output          write one file per component under this directory instead of printing
      --cluster-specific  accepted for istioctl compatibility (the output never depends on the cluster)`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        ...OPERATOR_OPTIONS,
        output: { type: "string", short: "o" },
        "cluster-specific": { type: "boolean", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const g = await generateFromArgs(values, io);
    if (!g) return 1;
    if (values.output === undefined) {
      io.stdout(toYaml(g.components.flatMap((c) => c.objects)));
      return 0;
    }
    for (const c of g.components) {
      const file = join(values.output, c.file);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, toYaml(c.objects));
    }
    if (g.components.length === 0) io.stderr("Warning: the profile enables no gateway; nothing written\n");
    return 0;
  },
};

// `shoal uninstall --purge | -f iop.yaml [--set …]`, like `istioctl uninstall`: deletes the gateways
// `shoal install` created (with --purge, every gateway any profile installs; else those the IstioOperator
// and --set name). Objects already gone are fine.
import { parseArgs } from "node:util";
import { OPERATOR_OPTIONS, generateFromArgs } from "../../install/cli-input.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";

export const uninstallCommand: Command = {
  path: ["uninstall"],
  summary: "Remove the gateways shoal install created",
  usage: `Usage: shoal uninstall --purge | -f IOP.yaml [--set PATH=VALUE ...]

  --purge   remove every gateway an install profile creates (istio-ingressgateway, istio-egressgateway)
  -f, --set the IstioOperator (and overrides) whose gateways to remove`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        ...OPERATOR_OPTIONS,
        purge: { type: "boolean", default: false },
        "skip-confirmation": { type: "boolean", short: "y", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const named = (values.filename?.length ?? 0) > 0 || (values.set?.length ?? 0) > 0;
    if (values.purge === named) throw new UsageError("give either --purge or -f/--set");
    const g = await generateFromArgs(values.purge ? { set: ["profile=demo"] } : values, io);
    if (!g) return 1;
    const client = new DaemonClient();
    // Service first, so no traffic is routed to a gateway that is going away.
    const order = ["Service", "Deployment", "ServiceAccount"];
    const objects = g.components
      .flatMap((c) => c.objects)
      .sort((a, b) => order.indexOf(String(a["kind"])) - order.indexOf(String(b["kind"])));
    for (const o of objects) {
      const meta = o["metadata"] as { name: string; namespace: string };
      const gone = await client.delete({
        kind: String(o["kind"]),
        namespace: meta.namespace,
        name: meta.name,
      });
      if (gone) io.stdout(`${String(o["kind"]).toLowerCase()}/${meta.name} deleted (${meta.namespace})\n`);
    }
    io.stdout("✔ Uninstall complete\n");
    return 0;
  },
};

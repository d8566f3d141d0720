// `shoal get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o FORMAT]`, like kubectl get.
import { parseArgs } from "node:util";
import { ShoalError } from "../../api/errors.js";
import { DaemonClient } from "../daemon-client.js";
import { formatResources } from "../get-format.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { isClusterScoped, kindFromArg } from "../kind-aliases.js";

export const getCommand: Command = {
  path: ["get"],
  summary: "List resources or show one",
  usage:
    "Usage: shoal get KIND [NAME] [-n NAMESPACE | -A] [-l key=value,...] [-o name|wide|yaml|json|jsonpath=TEMPLATE]",
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        namespace: { type: "string", short: "n" },
        "all-namespaces": { type: "boolean", short: "A", default: false },
        selector: { type: "string", short: "l" },
        output: { type: "string", short: "o" },
      },
      allowPositionals: true,
      strict: true,
    });
    const [kindWord, name, ...extra] = positionals;
    if (!kindWord) throw new UsageError("KIND is required (e.g. pods, svc, ap)");
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const kind = kindFromArg(kindWord);
    const clusterScoped = isClusterScoped(kind);
    const namespace = clusterScoped ? undefined : (values.namespace ?? "default");
    const all = values["all-namespaces"] && !clusterScoped;
    const client = new DaemonClient();
    const yaml = values.output === "yaml" ? (await import("yaml")).stringify : undefined;
    if (name) {
      const r = await client.get({ kind, namespace, name });
      if (!r)
        throw new ShoalError(
          "NOT_FOUND",
          `${kind.toLowerCase()}s "${name}" not found${namespace ? ` in namespace "${namespace}"` : ""}`,
        );
      io.stdout(
        formatResources([r], kind, {
          output: values.output,
          allNamespaces: false,
          single: true,
          yaml,
        }),
      );
      return 0;
    }
    const items = await client.list({
      kind,
      ...(all || clusterScoped ? {} : { namespace }),
      ...(values.selector ? { selector: values.selector } : {}),
    });
    if (items.length === 0 && (values.output === undefined || values.output === "wide")) {
      io.stderr(
        all || clusterScoped ? "No resources found\n" : `No resources found in ${namespace} namespace.\n`,
      );
      return 0;
    }
    io.stdout(
      formatResources(items, kind, { output: values.output, allNamespaces: all, single: false, yaml }),
    );
    return 0;
  },
};

// `shoal label KIND NAME k=v k2- [--overwrite] [-n NS]`, like kubectl label (`k-` removes a label).
import { parseArgs } from "node:util";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { isClusterScoped, kindFromArg } from "../kind-aliases.js";
import { editResource } from "./resource-edit.js";

export const labelCommand: Command = {
  path: ["label"],
  summary: "Add, change or remove labels of a resource",
  usage: "Usage: shoal label KIND NAME key=value... [key-...] [--overwrite] [-n NAMESPACE]",
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: { namespace: { type: "string", short: "n" }, overwrite: { type: "boolean", default: false } },
      allowPositionals: true,
      strict: true,
    });
    const [kindWord, name, ...changes] = positionals;
    if (!kindWord || !name || changes.length === 0)
      throw new UsageError("KIND, NAME and at least one label are required");
    const kind = kindFromArg(kindWord);
    const set: Record<string, string> = {};
    const remove: string[] = [];
    for (const c of changes) {
      const eq = c.indexOf("=");
      if (eq > 0) set[c.slice(0, eq)] = c.slice(eq + 1);
      else if (c.endsWith("-") && c.length > 1) remove.push(c.slice(0, -1));
      else throw new UsageError(`"${c}" is not key=value or key-`);
    }
    const namespace = isClusterScoped(kind) ? undefined : (values.namespace ?? "default");
    let conflict: string | undefined;
    const outcome = await editResource(new DaemonClient(), { kind, namespace, name }, (r) => {
      const labels = { ...(r.metadata.labels ?? {}) };
      for (const [k, v] of Object.entries(set)) {
        if (labels[k] !== undefined && labels[k] !== v && !values.overwrite) conflict ??= k;
        labels[k] = v;
      }
      for (const k of remove) delete labels[k];
      if (conflict)
        throw new UsageError(
          `'${conflict}' already has a value (${r.metadata.labels?.[conflict]}), and --overwrite is false`,
        );
      r.metadata.labels = labels;
    });
    io.stdout(`${kind.toLowerCase()}/${name} ${outcome === "unchanged" ? "not labeled" : "labeled"}\n`);
    return 0;
  },
};

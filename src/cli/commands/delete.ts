// `shoal delete -f FILE|DIR|-` or `shoal delete KIND NAME... [-n NS]`, like kubectl delete.
import { parseArgs } from "node:util";
import { parseManifests } from "../../api/load.js";
import type { AnyResource } from "../../api/meta.js";
import { kindByName } from "../../api/registry.js";
import type { ResourceKey } from "../../controlplane/store.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { isClusterScoped, kindFromArg } from "../kind-aliases.js";
import { readManifestTexts } from "./apply.js";

function word(kind: string): string {
  const group = kindByName(kind)?.group;
  return group ? `${kind.toLowerCase()}.${group}` : kind.toLowerCase();
}

export const deleteCommand: Command = {
  path: ["delete"],
  summary: "Delete resources named in manifests or by kind and name",
  usage:
    "Usage: shoal delete -f FILE|DIR|- [-n NAMESPACE] [--ignore-not-found]\n       shoal delete KIND NAME... [-n NAMESPACE]",
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        namespace: { type: "string", short: "n" },
        "ignore-not-found": { type: "boolean", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    const keys: ResourceKey[] = [];
    if (values.filename?.length) {
      if (positionals.length > 0) throw new UsageError("use either -f or KIND NAME, not both");
      for (const doc of await readManifestTexts(values.filename, io)) {
        for (const d of parseManifests(doc.text, doc.source).documents) {
          const r = d.object as AnyResource;
          if (!r?.kind || !r.metadata?.name) continue;
          const ns = isClusterScoped(r.kind)
            ? undefined
            : (r.metadata.namespace ?? values.namespace ?? "default");
          keys.push({ kind: r.kind, namespace: ns, name: r.metadata.name });
        }
      }
    } else {
      const [kindWord, ...names] = positionals;
      if (!kindWord || names.length === 0) throw new UsageError("KIND and NAME are required (or -f)");
      const kind = kindFromArg(kindWord);
      for (const name of names)
        keys.push({
          kind,
          namespace: isClusterScoped(kind) ? undefined : (values.namespace ?? "default"),
          name,
        });
    }
    const client = new DaemonClient();
    let code = 0;
    for (const key of keys) {
      const gone = await client.delete(key);
      if (gone) io.stdout(`${word(key.kind)} "${key.name}" deleted\n`);
      else if (!values["ignore-not-found"]) {
        io.stderr(`Error from server (NotFound): ${word(key.kind)} "${key.name}" not found\n`);
        code = 1;
      }
    }
    return code;
  },
};

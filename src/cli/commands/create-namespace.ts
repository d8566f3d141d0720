// `shoal create namespace NAME`, like kubectl: fails when the namespace exists.
import { parseArgs } from "node:util";
import { formatDiagnostic } from "../../api/diagnostic.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";

export const createNamespaceCommand: Command = {
  path: ["create", "namespace"],
  summary: "Create a namespace",
  usage: "Usage: shoal create namespace NAME",
  async run(args, io) {
    const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("exactly one NAME is required");
    const name = positionals[0]!;
    const client = new DaemonClient();
    if (await client.get({ kind: "Namespace", name })) {
      io.stderr(`Error from server (AlreadyExists): namespaces "${name}" already exists\n`);
      return 1;
    }
    const doc = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
    const result = await client.apply({
      documents: [{ text: JSON.stringify(doc), source: "create namespace" }],
    });
    if (result.errors.length > 0) {
      for (const e of result.errors) io.stderr(`Error: ${formatDiagnostic(e)}\n`);
      return 1;
    }
    io.stdout(`namespace/${name} created\n`);
    return 0;
  },
};

// `shoal rollout restart deployment [NAME] -n NS`: stamps the pod template with the restart time, as
// kubectl does, so the Deployment controller replaces the pods.
import { parseArgs } from "node:util";
import type { AnyResource } from "../../api/meta.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { kindFromArg } from "../kind-aliases.js";
import { editResource } from "./resource-edit.js";

export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

export function stampRestart(d: AnyResource, when: string): void {
  const spec = (d["spec"] ?? {}) as { template?: { metadata?: { annotations?: Record<string, string> } } };
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.annotations = {
    ...(spec.template.metadata.annotations ?? {}),
    [RESTARTED_AT]: when,
  };
  d["spec"] = spec;
}

export const rolloutRestartCommand: Command = {
  path: ["rollout", "restart"],
  summary: "Restart a deployment's pods (all deployments of the namespace when no NAME)",
  usage: "Usage: shoal rollout restart deployment [NAME...] [-n NAMESPACE]",
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: { namespace: { type: "string", short: "n" } },
      allowPositionals: true,
      strict: true,
    });
    const [kindWord, ...names] = positionals;
    if (!kindWord) throw new UsageError("deployment is required");
    const kindArg = kindWord.split("/");
    if (kindFromArg(kindArg[0]!) !== "Deployment") throw new UsageError("only deployments can be restarted");
    if (kindArg[1]) names.push(kindArg[1]);
    const namespace = values.namespace ?? "default";
    const client = new DaemonClient();
    const targets =
      names.length > 0
        ? names
        : (await client.list({ kind: "Deployment", namespace })).map((d) => d.metadata.name);
    const when = new Date().toISOString();
    for (const name of targets) {
      await editResource(client, { kind: "Deployment", namespace, name }, (d) => stampRestart(d, when));
      io.stdout(`deployment.apps/${name} restarted\n`);
    }
    return 0;
  },
};

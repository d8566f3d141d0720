// Shared by the commands that change a stored resource (label, rollout restart): fetch it, change it,
// send it back through apply so the daemon validates it like any manifest.
import { formatDiagnostic } from "../../api/diagnostic.js";
import { ShoalError } from "../../api/errors.js";
import type { AnyResource } from "../../api/meta.js";
import type { ResourceKey } from "../../controlplane/store.js";
import type { DaemonClient } from "../daemon-client.js";

export async function editResource(
  client: DaemonClient,
  key: ResourceKey,
  change: (r: AnyResource) => void,
): Promise<string> {
  const r = await client.get(key);
  if (!r)
    throw new ShoalError(
      "NOT_FOUND",
      `${key.kind.toLowerCase()}s "${key.name}" not found${key.namespace ? ` in namespace "${key.namespace}"` : ""}`,
    );
  delete r["status"];
  change(r);
  const result = await client.apply({ documents: [{ text: JSON.stringify(r), source: key.name }] });
  if (result.errors.length > 0)
    throw new ShoalError("INVALID", result.errors.map(formatDiagnostic).join("\n"));
  return result.applied[0]?.outcome ?? "unchanged";
}

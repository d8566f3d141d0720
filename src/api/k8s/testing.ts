// Test helper for the Kubernetes kinds: validate YAML text and return formatted errors and warnings.
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { validateDocument } from "../validate.js";

export interface Checked {
  errors: string[];
  warnings: string[];
}

/** Validates every document in `text`; lines are `Kind ns/name: path: message` without the source. */
export function check(text: string): Checked {
  const loaded = parseManifests(text);
  const out: Checked = {
    errors: loaded.errors.map((e) => formatDiagnostic({ ...e, source: undefined })),
    warnings: [],
  };
  for (const doc of loaded.documents) {
    const r = validateDocument(doc);
    const plain = (d: (typeof r.errors)[number]) =>
      formatDiagnostic({ ...d, source: undefined, line: undefined });
    out.errors.push(...r.errors.map(plain));
    out.warnings.push(...r.warnings.map(plain));
  }
  return out;
}

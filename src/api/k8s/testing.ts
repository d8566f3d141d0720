// Test helper for the Kubernetes kinds: validate YAML text and return formatted errors and warnings.
import { formatDiagnostic } from "../diagnostic.js";
import { parseManifests } from "../load.js";
import { NOT_IMPLEMENTED_CODE } from "../not-implemented.js";
import { validateDocument } from "../validate.js";

export interface Checked {
  errors: string[];
  warnings: string[];
}

/** Validates every document in `text`; lines are `Kind ns/name: path: message` without the source.
 *  The kind's own checks only: warnings about what Shoal does not implement (not-implemented.ts, tested
 *  there) are left out. */
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
    out.warnings.push(...r.warnings.filter((w) => w.code !== NOT_IMPLEMENTED_CODE).map(plain));
  }
  return out;
}

// MUTUAL gateway servers with `subjectAltNames`: the client certificate must carry one of them. Envoy's
// rule (match_subject_alt_names, exact): any SAN of the certificate — DNS, URI, email or IP — equal to
// any listed name admits the client; an empty list admits every certificate the CA verified.

/** The SAN values of Node's `subjectaltname` text (`DNS:a.example, URI:spiffe://x, IP Address:1.2.3.4`). */
export function subjectAltNameValues(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const part of text.split(/,\s*/)) {
    const colon = part.indexOf(":");
    if (colon < 0) continue;
    let v = part.slice(colon + 1).trim();
    // Node quotes values that contain separators: `DNS:"a,b"`.
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out.push(v);
  }
  return out;
}

export function clientSanAdmitted(wanted: readonly string[], subjectaltname: string | undefined): boolean {
  if (wanted.length === 0) return true;
  const have = subjectAltNameValues(subjectaltname);
  return wanted.some((w) => have.includes(w));
}

import assert from "node:assert/strict";
import { test } from "node:test";
import { trustEnv, trustFiles, trustPrelude, withoutCallerTrust } from "./trust-store.js";

test("a command exec'd into a pod gets the cluster's trust store even when the caller names another bundle", () => {
  const caller = {
    PATH: "/usr/bin",
    SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
    CURL_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt",
    REQUESTS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt",
    NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt",
  };
  const env = withoutCallerTrust(caller);
  for (const name of Object.keys(trustEnv(trustFiles("t-abc123")))) assert.equal(env[name], undefined, name);
  assert.deepEqual(env, { PATH: "/usr/bin" });
  // With those gone, the prelude's defaults (the cluster's bundle) are what the command sees.
  const files = trustFiles("t-abc123");
  const prelude = trustPrelude(trustEnv(files))[2]!;
  assert.match(prelude, new RegExp(`CURL_CA_BUNDLE="\\$\\{CURL_CA_BUNDLE-${files.bundle}\\}"`));
});

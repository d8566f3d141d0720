// The child processes of the connection benchmark (bench/conns.ts): the HTTP app, the bulk sink and one
// Shoal sidecar (see bench-children.ts). Each prints its port(s) on one line once it listens.
//   usage: node dist/bench/conns-child.js app | sink | sidecar CONFIG CERT_DIR DST_ADDRESS DST_PORT
import { CHILD_USAGE, runChild } from "./bench-children.js";

const BODY = JSON.stringify({ id: 0, author: "William Shakespeare", year: 1595 });

if (!(await runChild(process.argv.slice(2), BODY))) {
  console.error(`usage: conns-child.js ${CHILD_USAGE}`);
  process.exit(2);
}

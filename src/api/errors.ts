// The one error base every Shoal layer throws (defined in common/errors.ts so the proxy shares it without
// loading anything of the API layer).
export * from "../common/errors.js";

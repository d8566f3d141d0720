// IP addresses and CIDR blocks for resource validation: the parsing lives in common/ip.ts, which the
// proxy uses too without loading anything of the API layer.
export * from "../common/ip.js";

#!/usr/bin/env node
// The `shoal` executable: hands the command line to the dispatcher and exits with its code.
import "reflect-metadata";
import { dispatch } from "./dispatch.js";
import { processIo } from "./io.js";

process.exitCode = await dispatch(process.argv.slice(2), processIo);

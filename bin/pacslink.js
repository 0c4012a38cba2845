#!/usr/bin/env node
// The package's command: runs the compiled CLI (built by `npm install` through `prepare`).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));

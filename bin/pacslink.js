#!/usr/bin/env node
// The package's command: runs the compiled CLI (built by `npm install` through `prepare`).
import { main } from '../dist/src/cli.js';

// A reader that stops early (`pacslink parse … | head`) closes the pipe: that is not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));

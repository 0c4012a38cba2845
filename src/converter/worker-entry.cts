/**
 * The file Piscina loads in each worker: a CommonJS shim around the ESM worker (worker.ts).
 *
 * Piscina first tries `require()` on its worker file. On Node versions where `require()`
 * can load ES modules, two concurrent loads of the same ESM graph in a fresh worker (the
 * preload and the first task) can abort the process with the V8 fatal error
 * "v8::Module::IsGraphAsync must be used on an instantiated module" (seen on Node 20.20,
 * about one run in ten). A CommonJS entry is required as plain CommonJS, and the ESM worker
 * is loaded once, with a dynamic `import()`.
 */
import type { ConvertReply, ConvertTask } from './work.js';

const worker: Promise<{ default: (task: ConvertTask) => ConvertReply }> = import('./worker.js');
// A failed load (e.g. the inbound environment cannot be opened) is reported by every task
// that awaits it, not as an unhandled rejection killing the worker at once.
worker.catch(() => undefined);

export = async function convert(task: ConvertTask): Promise<ConvertReply> {
  return (await worker).default(task);
};

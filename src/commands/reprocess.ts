/**
 * `pacslink reprocess SEQ|--all-dead [--config FILE] [--data DIR]`: converts dead-lettered
 * messages again, typically after a fix of the configuration (a mapping option such as the
 * accession's location, or a repository policy such as `createUnknownPatients`), on a data
 * directory no engine is running on (exit 1 otherwise).
 *
 * The messages are re-read from the inbound log, mapped with the current options and applied
 * in seq order, each in its own transaction, with events appended as in the live run. On
 * success the dead letter is removed; on failure it is updated (new reason, attempts + 1).
 * The converter's cursor does not move: these messages are behind it already.
 *
 * A reprocessed message is applied after messages that arrived later. The repository's
 * out-of-order guard (each patient keeps the event time of the newest demographics applied)
 * keeps older demographics from overwriting newer ones; other changes (an order's status,
 * a report version) are applied as they come, which is what an operator retrying a message
 * expects. Prints one line per message; exit 0 when every message was converted, 1 when any
 * failed again or was not a dead letter.
 */
import type { CommandIo } from '../cli.js';
import { mapBytes } from '../converter/map/index.js';
import { offlineApplier } from '../converter/stage.js';
import type { ConvertedItem } from '../converter/work.js';
import { UsageError } from '../errors.js';
import { Hl7Message } from '../hl7/index.js';
import { offlineArgs, openOffline } from './offline.js';

/** Runs the command; resolves with the exit code. */
export async function run(args: string[], io: CommandIo): Promise<number> {
  const { options, positionals, flags } = await offlineArgs(args, io.env, ['all-dead']);
  const all = flags['all-dead'] === true;
  if (all === (positionals.length > 0) || positionals.length > 1) {
    throw new UsageError('reprocess takes one SEQ or --all-dead');
  }
  let wanted: number | undefined;
  if (!all) {
    wanted = Number(positionals[0]);
    if (!Number.isSafeInteger(wanted) || wanted < 1) throw new UsageError(`SEQ must be a positive integer, got '${positionals[0]}'`);
  }
  const data = await openOffline(options);
  try {
    const { store, log } = data;
    const seqs = wanted !== undefined ? [wanted] : store.deadLetters.list(0, Number.MAX_SAFE_INTEGER).map((d) => d.seq);
    // Derives the workflow events too: a message converted late still gets its pre-fetch and sync events.
    const applier = offlineApplier(store);
    const parser = new Hl7Message();
    let failures = 0;
    let converted = 0;
    for (const seq of seqs) {
      const before = store.deadLetters.get(seq);
      if (before === undefined) {
        io.stdout.write(`${seq}\tnot-dead-lettered\n`);
        failures++;
        continue;
      }
      const record = log.get(seq);
      if (record === undefined) {
        io.stdout.write(`${seq}\tgone\tthe message is no longer in the inbound log\n`);
        failures++;
        continue;
      }
      const result = mapBytes(record.raw, options.mapping, parser);
      const item: ConvertedItem = { seq, result, ns: 0, messageType: record.messageType, controlId: record.controlId };
      const outcome = applier.reapply(item);
      if (outcome === 'dead-letter') {
        const after = store.deadLetters.get(seq);
        io.stdout.write(`${seq}\tdead-letter\t${after?.code ?? ''}\t${after?.message ?? ''}\n`);
        failures++;
      } else {
        io.stdout.write(`${seq}\t${outcome}\n`);
        converted++;
      }
    }
    io.stderr.write(`reprocessed ${seqs.length}: ${converted} converted, ${failures} not\n`);
    return failures === 0 ? 0 : 1;
  } finally {
    await data.close();
  }
}

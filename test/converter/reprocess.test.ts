/**
 * `pacslink reprocess` after a configuration fix: an order for an unknown patient is
 * dead-lettered under `createUnknownPatients: false`; with the policy changed to true,
 * reprocessing applies it, removes the dead letter and appends its events. A message that
 * still fails keeps its dead letter, with one more attempt.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveEngineOptions } from '../../src/config.js';
import { openConversionStore } from '../../src/converter/stage.js';
import { a04WithoutId, convertAll, filledLog, hl7, pacslink, tempDir } from './helpers.js';

const ORDER = hl7(
  'MSH|^~\\&|RIS|HOSP|PACS|RAD|20240102120000||ORM^O01^ORM_O01|ORD1|P|2.5.1',
  'PID|1||NEW1^^^HOSP^MR||ROE^JANE||19800101|F',
  'ORC|NW|PL1|FL1||SC',
  'OBR|1|PL1|FL1|71020^CHEST XRAY 2 VIEWS^CPT4|||20240102120000|||||||||||ACC1|||||||CR',
);

describe('pacslink reprocess', () => {
  it('applies a dead letter after the policy that rejected it is changed, and removes it', { timeout: 60_000 }, async (t) => {
    const dir = await tempDir(t);
    const log = await filledLog(join(dir, 'inbound'), [ORDER, a04WithoutId('NOID1')]);
    await log.close();
    const strict = join(dir, 'strict.json');
    const relaxed = join(dir, 'relaxed.json');
    await writeFile(strict, JSON.stringify({ repository: { policies: { createUnknownPatients: false } } }));
    await writeFile(relaxed, JSON.stringify({ repository: { policies: { createUnknownPatients: true } } }));
    const live = await convertAll(dir, { repository: { policies: { createUnknownPatients: false } } });
    assert.deepEqual(live.deadLetters, [1, 2]);

    // Still the strict policy: fails again, attempts counted.
    const still = await pacslink(['reprocess', '1', '--data', dir, '--config', strict]);
    assert.equal(still.code, 1);
    assert.match(still.stdout, /^1\tdead-letter\tUNKNOWN_PATIENT\t/);

    const fixed = await pacslink(['reprocess', '--all-dead', '--data', dir, '--config', relaxed]);
    assert.equal(fixed.code, 1, 'message 2 cannot be fixed by configuration');
    assert.match(fixed.stdout, /^1\tapplied$/m);
    assert.match(fixed.stdout, /^2\tdead-letter\tMISSING_FIELD\t/m);

    const store = await openConversionStore(resolveEngineOptions({ dataDir: dir }));
    t.after(() => store.repository.close());
    assert.equal(store.deadLetters.get(1), undefined, 'the fixed message left the dead-letter table');
    assert.equal(store.deadLetters.get(2)?.attempts, 2);
    assert.equal(store.state.cursor(), 2, 'the cursor did not move');
    const orders = store.repository.findOrders({ accession: 'ACC1' }).items;
    assert.equal(orders.length, 1, 'the order is in the repository');
    const events = store.events.range(0, 100);
    const forOrder = events.filter((e) => e.messageSeq === 1).map((e) => e.type);
    assert.deepEqual(forOrder.slice(0, 2), ['message.rejected', 'message.rejected'], 'the live run and the failed retry were announced');
    assert.ok(forOrder.includes('patient.created') && forOrder.includes('order.scheduled'), `events after the fix: ${forOrder.join(', ')}`);
    for (let i = 0; i < events.length; i++) assert.equal(events[i]!.seq, i + 1, 'event seqs stay contiguous');
  });
});

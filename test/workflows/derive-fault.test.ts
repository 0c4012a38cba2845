/** The applier's hook is part of the message's transaction: a fault in it leaves neither the message's events nor any workflow state behind. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mapBytes } from '../../src/converter/map/index.js';
import { offlineApplier } from '../../src/converter/stage.js';
import { Hl7Message } from '../../src/hl7/index.js';
import { harness, orm } from './helpers.js';

it('a hook that throws (alone too) aborts the message\'s transaction: no event, no marker; the message is an INTERNAL dead letter and the next one goes on', async (t) => {
  const h = await harness(t);
  const { store, options, workflows } = h;
  const applier = offlineApplier(store, {
    startAfter: 0,
    derive: (input) => {
      const out = workflows.derive(input);
      // After the hook has written its marker: the abort must take that back too.
      if (input.events.some((e) => (e.data.order as { accession?: string } | undefined)?.accession === 'F-1')) throw new Error('workflow bug');
      return out;
    },
  });
  const parser = new Hl7Message();
  const items = [orm({ accession: 'F-1', scheduled: '20240110090000' }), orm({ accession: 'F-2', scheduled: '20240110100000' })].map((raw, i) => ({
    seq: i + 1,
    result: mapBytes(raw, options.mapping, parser),
    ns: 0,
  }));
  applier.accept({ fromSeq: 1, toSeq: 2, items, parseNs: 0, ns: 0 });
  applier.flush();
  assert.equal(store.deadLetters.get(1)?.code, 'INTERNAL');
  assert.match(store.deadLetters.get(1)?.message ?? '', /workflow bug/);
  const events = store.events.range(0, 100);
  assert.deepEqual(events.map((e) => [e.seq, e.type, e.messageSeq]), [
    [1, 'message.rejected', 1],
    [2, 'patient.created', 2],
    [3, 'order.scheduled', 2],
    [4, 'prefetch.requested', 2],
  ]);
  assert.equal(store.repository.findOrders({ accession: 'F-1' }).items.length, 0, 'the order of the failed message was not written');
  // Keys are allocated again after the abort: F-2 is O1; F-1's marker (O1 at 08:00Z) is gone with its transaction.
  assert.equal(store.repository.findOrders({ accession: 'F-2' }).items[0]?.key, 'O1');
  assert.equal(workflows.state.orderRequested('O1', '2024-01-10T08:00:00.000Z'), false, 'nor its marker');
  assert.equal(workflows.state.orderRequested('O1', '2024-01-10T09:00:00.000Z'), true);
});

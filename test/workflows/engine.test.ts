/** The workflows in a running engine: messages over MLLP produce pre-fetch and sync events in their own transaction; `engine.workflows` runs the daily pre-fetch on demand. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MllpClient, readAck } from '../../src/mllp/client.js';
import { testEngine } from '../listener/helpers.js';
import { adt, orm, prefetches, syncs } from './helpers.js';

describe('workflows in the engine', () => {
  it('an order over MLLP yields prefetch.requested, an A08 sync.requested, each with its message\'s seq; runPrefetch covers the date', async (t) => {
    const te = await testEngine(undefined, { ackOn: 'apply' }, { mapping: { timeZone: 'Europe/Berlin' } });
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    for (const m of [adt('A04', '1001^^^HOSP^MR'), orm({ accession: 'E-1', scheduled: '20240110090000', uid: '1.2.3' }), adt('A08', '1001^^^HOSP^MR', { name: 'DOE^JONATHAN', time: '20240103120000' })]) {
      assert.equal(readAck(await client.send(m)).code, 'AA');
    }
    const store = te.engine.store!;
    const events = store.events.range(0, 1000);
    const [pre] = prefetches(events);
    const [sync] = syncs(events);
    const scheduled = events.find((e) => e.type === 'order.scheduled')!;
    assert.equal(events.find((e) => e.type === 'prefetch.requested')!.messageSeq, scheduled.messageSeq);
    assert.equal(pre!.order.accession, 'E-1');
    assert.equal(sync!.changes[0]!.value, 'DOE^JONATHAN');
    assert.deepEqual(sync!.studies.map((s) => s.AccessionNumber), ['E-1']);

    const workflows = te.engine.workflows!;
    const r = await workflows.runPrefetch('2024-01-10');
    assert.equal(r.requested, 1);
    const daily = store.events.range(0, 1000).filter((e) => e.type === 'prefetch.requested' && e.messageSeq === 0);
    assert.equal(daily.length, 1);
    await assert.rejects(workflows.runPrefetch('tomorrow'), RangeError);
  });
});

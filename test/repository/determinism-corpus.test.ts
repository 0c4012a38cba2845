import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCorpus } from '../../bench/corpus.js';
import { createMappingOptions, mapMessage } from '../../src/converter/map/index.js';
import { isHl7Error, parseMessage } from '../../src/hl7/index.js';
import type { NewEvent } from '../../src/events/types.js';
import { tempRepository, type Harness } from './helpers.js';

const OPTS = createMappingOptions({ timeZone: 'UTC' });
const corpus = generateCorpus({ seed: 7, count: 600 });

function mapped(): Array<Extract<ReturnType<typeof mapMessage>, { kind: 'changes' }>> {
  const out = [];
  for (const bytes of corpus) {
    const msg = parseMessage(bytes);
    if (isHl7Error(msg)) continue;
    const r = mapMessage(msg, OPTS);
    if (r.kind === 'changes') out.push(r);
  }
  return out;
}

test('the bench corpus gives the same digest and events applied one transaction per message or all in one', async (t) => {
  const results = mapped();
  assert.ok(results.length > 400);
  const one = await tempRepository(t);
  const all = await tempRepository(t);
  const run = (h: Harness, perMessage: boolean): NewEvent[] => {
    const events: NewEvent[] = [];
    const body = (): void => {
      results.forEach((r, i) => {
        const go = () => h.repo.apply(r, i + 1, (e) => events.push(e));
        if (perMessage) h.repo.env.transactionSync(go);
        else go();
      });
    };
    if (perMessage) body();
    else h.repo.env.transactionSync(body);
    return events;
  };
  const e1 = run(one, true);
  const e2 = run(all, false);
  assert.equal(one.repo.digest(), all.repo.digest());
  assert.deepEqual(e1, e2);
  assert.ok(e1.length >= results.length);
});

/** The daily pre-fetch run and its scheduler: windows in the configured zone, suppression, restarts with a fake clock, atomicity. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DailyPrefetch } from '../../src/workflows/daily.js';
import type { SchedulerClock } from '../../src/workflows/index.js';
import { adt, harness, orm, prefetches, type Harness } from './helpers.js';

/** A clock whose time only moves when told; timers fire when it passes their time. */
class FakeClock implements SchedulerClock {
  ms: number;
  timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #id = 0;
  constructor(iso: string) {
    this.ms = Date.parse(iso);
  }
  now(): number {
    return this.ms;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.timers.push({ at: this.ms + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Moves to `iso`, firing due timers in order. */
  set(iso: string): void {
    this.ms = Date.parse(iso);
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.ms).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.fn();
    }
  }
}

function dailyEvents(h: Harness) {
  return h.all().filter((e) => e.type === 'prefetch.requested' && e.messageSeq === 0);
}

describe('daily pre-fetch run', () => {
  it('covers the orders scheduled in the local day of the configured zone, one request per patient, and suppresses repeats', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [] } } });
    h.send(
      orm({ ids: '1^^^HOSP^MR', accession: 'IN-1', scheduled: '20240110000000' }),
      orm({ ids: '1^^^HOSP^MR', accession: 'IN-2', scheduled: '20240110233000', modality: 'MR' }),
      orm({ ids: '1^^^HOSP^MR', accession: 'PRIOR', scheduled: '20230110090000', modality: 'MR', time: '20230110090000' }),
      orm({ ids: '2^^^HOSP^MR', accession: 'OUT-BEFORE', scheduled: '20240109235959' }),
      orm({ ids: '2^^^HOSP^MR', accession: 'OUT-AFTER', scheduled: '20240111000000' }),
      orm({ ids: '3^^^HOSP^MR', accession: 'CANCELLED', scheduled: '20240110120000' }),
      orm({ ids: '3^^^HOSP^MR', accession: 'CANCELLED', control: 'CA', status: 'CA', scheduled: '20240110120000' }),
      // Scheduled with an explicit offset: 2024-01-10 23:30 UTC is 00:30 on the 11th in Berlin.
      orm({ ids: '4^^^HOSP^MR', accession: 'UTC-LATE', scheduled: '20240110233000+0000' }),
    );
    const before = h.store.events.lastSeq();
    const r = await h.workflows.api.runPrefetch('2024-01-10');
    assert.deepEqual(r, { date: '2024-01-10', window: { from: '2024-01-10T00:00:00+01:00', to: '2024-01-11T00:00:00+01:00' }, requested: 1, suppressed: 0 });
    const events = h.store.events.range(before, 100);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.messageSeq, 0, 'scheduler events carry messageSeq 0');
    const [req] = prefetches(events);
    assert.equal(req!.trigger, 'daily');
    assert.deepEqual(req!.run, { date: '2024-01-10', window: r.window });
    assert.equal(req!.order.accession, 'IN-1');
    assert.deepEqual(req!.orders.map((o) => o.accession), ['IN-1', 'IN-2']);
    assert.deepEqual(req!.priors.map((p) => p.accession), ['PRIOR'], 'the MR order\'s prior');

    const again = await h.workflows.api.runPrefetch('2024-01-10');
    assert.deepEqual([again.requested, again.suppressed], [0, 1]);
    h.send(orm({ ids: '5^^^HOSP^MR', accession: 'LATE-ORDER', scheduled: '20240110150000' }));
    const third = await h.workflows.api.runPrefetch('2024-01-10');
    assert.deepEqual([third.requested, third.suppressed], [1, 1], 'only the patient new to the window');
    assert.equal((await h.workflows.api.runPrefetch('2024-01-11')).requested, 2, 'another window is another request');
    await assert.rejects(h.workflows.api.runPrefetch('2024-02-30'), /date must be a calendar date YYYY-MM-DD, got "2024-02-30"/);
  });

  it('a merged patient is requested once per window, under the survivor, with the orders of both', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [] } } });
    h.send(
      adt('A04', '10^^^HOSP^MR'),
      adt('A04', '20^^^HOSP^MR'),
      orm({ ids: '10^^^HOSP^MR', accession: 'M-1', scheduled: '20240110080000' }),
      orm({ ids: '20^^^HOSP^MR', accession: 'M-2', scheduled: '20240110090000' }),
      adt('A40', '20^^^HOSP^MR', { mrg: '10^^^HOSP^MR' }),
    );
    const r = await h.workflows.api.runPrefetch('2024-01-10');
    assert.equal(r.requested, 1);
    const [req] = prefetches(dailyEvents(h));
    assert.deepEqual(req!.patient.identifiers.map((i) => i.id), ['20']);
    assert.deepEqual(req!.patient.mergedIdentifiers.map((i) => i.id), ['10']);
    assert.deepEqual(req!.orders.map((o) => o.accession), ['M-1', 'M-2']);
  });

  it('windows follow daylight-saving changes: 23 hours in spring, 25 in autumn', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [] } } });
    h.send(
      orm({ ids: '1^^^HOSP^MR', accession: 'SPRING', scheduled: '20240331233000' }),
      orm({ ids: '2^^^HOSP^MR', accession: 'AUTUMN', scheduled: '20241027233000' }),
    );
    const spring = await h.workflows.api.runPrefetch('2024-03-31');
    assert.deepEqual(spring.window, { from: '2024-03-31T00:00:00+01:00', to: '2024-04-01T00:00:00+02:00' });
    assert.equal(spring.requested, 1);
    const autumn = await h.workflows.api.runPrefetch('2024-10-27');
    assert.deepEqual(autumn.window, { from: '2024-10-27T00:00:00+02:00', to: '2024-10-28T00:00:00+01:00' });
    assert.equal(autumn.requested, 1);
    assert.equal(Date.parse(spring.window.to) - Date.parse(spring.window.from), 23 * 3600_000);
    assert.equal(Date.parse(autumn.window.to) - Date.parse(autumn.window.from), 25 * 3600_000);
  });

  it('a run that fails part-way leaves no event, no marker and no done day (one transaction)', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [] } } });
    h.send(orm({ ids: '1^^^HOSP^MR', accession: 'A', scheduled: '20240110090000' }), orm({ ids: '2^^^HOSP^MR', accession: 'B', scheduled: '20240110100000' }));
    let calls = 0;
    const repo = h.store.repository;
    const view = new Proxy(repo, {
      get(target, prop) {
        if (prop === 'mergeHistory') {
          return (...args: Parameters<typeof repo.mergeHistory>) => {
            if (++calls === 2) throw new Error('disk on fire');
            return target.mergeHistory(...args);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const broken = new DailyPrefetch({ env: repo.env, view, events: h.store.events, state: h.workflows.state, options: h.workflows.options });
    const before = h.store.events.lastSeq();
    assert.throws(() => broken.run('2024-01-10', '2024-01-09'), /disk on fire/);
    assert.equal(h.store.events.lastSeq(), before);
    assert.equal(h.workflows.state.lastDailyDay(), undefined);
    assert.equal((await h.workflows.api.runPrefetch('2024-01-10')).requested, 2, 'nothing was marked as requested');
    assert.equal(h.store.events.lastSeq(), before + 2, 'event seqs stay contiguous');
  });
});

describe('daily scheduler', () => {
  it('fires at the local time, never runs a day twice across restarts, and catches up missed days in order', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [], daily: { time: '18:00' } } } });
    for (let d = 10; d <= 16; d++) h.send(orm({ ids: `${d}^^^HOSP^MR`, accession: `D${d}`, scheduled: `202401${d}090000` }));
    const clock = new FakeClock('2024-01-09T16:59:00Z'); // 17:59 Berlin
    const runs: string[] = [];
    let s = h.workflows.scheduler({ clock, onRun: (day, o) => runs.push(`${day}:${'result' in o ? o.result.date : 'error'}`) });
    assert.deepEqual(await s.start(), [], 'not yet 18:00');
    assert.equal(clock.timers.length, 1);
    clock.set('2024-01-09T17:00:00Z'); // 18:00 Berlin
    await s.tick(); // the pass the timer started
    assert.deepEqual(runs, ['2024-01-09:2024-01-10']);
    assert.equal(h.workflows.state.lastDailyDay(), '2024-01-09');
    await s.stop();
    assert.equal(clock.timers.length, 0, 'stop clears the timer');

    // A restart the same evening: the day is done.
    clock.set('2024-01-09T20:00:00Z');
    s = h.workflows.scheduler({ clock, onRun: (day) => runs.push(`again:${day}`) });
    assert.deepEqual(await s.start(), []);
    await s.stop();
    assert.equal(runs.length, 1);

    // Down from the 10th to the morning of the 13th: the 10th, 11th and 12th run, in order; the 13th waits for 18:00.
    clock.set('2024-01-13T08:00:00Z');
    s = h.workflows.scheduler({ clock });
    const caught = await s.start();
    assert.deepEqual(caught.map((r) => r.date), ['2024-01-11', '2024-01-12', '2024-01-13']);
    assert.deepEqual(caught.map((r) => r.requested), [1, 1, 1]);
    assert.equal(h.workflows.state.lastDailyDay(), '2024-01-12');
    clock.set('2024-01-13T17:00:00Z');
    await s.tick();
    assert.equal(h.workflows.state.lastDailyDay(), '2024-01-13');
    await s.stop();
    assert.deepEqual(
      dailyEvents(h).map((e) => (e.data as { run: { date: string } }).run.date),
      ['2024-01-10', '2024-01-11', '2024-01-12', '2024-01-13', '2024-01-14'],
      'one run per day, no day twice, none skipped',
    );
  });

  it('uses the local date around midnight: a 00:15 run in New York is due by New York\'s date, not UTC\'s', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [], timeZone: 'America/New_York', daily: { time: '00:15' } } } });
    h.send(orm({ accession: 'NY', scheduled: '20240111100000-0500' }));
    // 2024-01-10 05:10 UTC is 00:10 in New York: not yet.
    const clock = new FakeClock('2024-01-10T05:10:00Z');
    const s = h.workflows.scheduler({ clock });
    assert.deepEqual(await s.start(), []);
    clock.set('2024-01-10T05:16:00Z');
    const [r] = await s.tick();
    assert.equal(r!.date, '2024-01-11');
    assert.deepEqual(r!.window, { from: '2024-01-11T00:00:00-05:00', to: '2024-01-12T00:00:00-05:00' });
    assert.equal(r!.requested, 1);
    await s.stop();
  });

  it('on daylight-saving nights a 02:30 run fires once: after the gap in spring, at the first 02:30 in autumn', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [], daily: { time: '02:30' } } } });
    const clock = new FakeClock('2024-03-31T01:29:00Z'); // 03:29 CEST: 02:30 does not exist that night and becomes 03:30
    let s = h.workflows.scheduler({ clock });
    assert.deepEqual(await s.start(), [], 'the first start runs only a day whose time has passed');
    assert.equal(h.workflows.state.lastDailyDay(), undefined);
    clock.set('2024-03-31T01:31:00Z'); // 03:31 CEST
    await s.tick();
    assert.equal(h.workflows.state.lastDailyDay(), '2024-03-31');
    await s.stop();

    const autumn = await harness(t, { workflows: { prefetch: { triggers: [], daily: { time: '02:30' } } } });
    clock.set('2024-10-27T00:29:00Z'); // 02:29 CEST
    s = autumn.workflows.scheduler({ clock });
    assert.deepEqual(await s.start(), []);
    clock.set('2024-10-27T00:31:00Z'); // the first 02:31 (CEST)
    const runs = await s.tick();
    assert.deepEqual(runs.map((r) => r.date), ['2024-10-28']);
    assert.equal(autumn.workflows.state.lastDailyDay(), '2024-10-27');
    clock.set('2024-10-27T01:31:00Z'); // the second 02:31 (CET)
    assert.deepEqual(await s.tick(), [], 'not again when 02:30 comes round a second time');
    await s.stop();
  });

  it('stop while a run waits for the converter: no run is made once released, and stop resolves', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: [], daily: { time: '18:00' } } } });
    const clock = new FakeClock('2024-01-09T18:00:00Z');
    let release: () => void = () => {};
    const waiting = new Promise<void>((resolve) => (release = resolve));
    const s = h.workflows.scheduler({ clock, beforeRun: () => waiting });
    const pass = s.start();
    const stopped = s.stop();
    release();
    assert.deepEqual(await pass, []);
    await stopped;
    assert.equal(h.workflows.state.lastDailyDay(), undefined, 'the day stays due for the next start');
    assert.equal(clock.timers.length, 0);
  });
});

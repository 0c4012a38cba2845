/** Per-order pre-fetch (DOMAIN.md §5): triggers, relevance rules, look-back, merges, lead time, all in the message's transaction. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, adt, harness, orm, oru, prefetches, siu } from './helpers.js';

const RELEVANCE = [
  { procedureCode: 'CTCHEST', bodyRegion: 'CHEST', priorModalities: ['CT', 'CR'] },
  { procedureCode: 'CTHEAD', bodyRegion: 'HEAD' },
  { procedureCode: 'XRCHEST', bodyRegion: 'CHEST' },
  { modality: 'MR', priorModalities: ['MR'] },
];

describe('per-order pre-fetch', () => {
  it('a new scheduled order emits prefetch.requested right after order.scheduled, same messageSeq, with identifiers, order keys and priors', async (t) => {
    const h = await harness(t);
    h.send(
      adt('A04', '1001^^^HOSP&1.2.3&ISO^MR~555^^^NATID^NI'),
      orm({ accession: 'OLD1', scheduled: '20230601090000', uid: '1.2.3.1', time: '20230601080000' }),
      oru({ accession: 'OLD1', time: '20230601100000' }),
    );
    const events = h.send(orm({ accession: 'ACC9', scheduled: '20240110090000', uid: '1.2.3.9', service: '71250^CT THORAX^CPT4' }));
    assert.deepEqual(events.map((e) => e.type), ['order.scheduled', 'prefetch.requested']);
    assert.equal(events[1]!.messageSeq, events[0]!.messageSeq);
    const [req] = prefetches(events);
    assert.equal(req!.trigger, 'order');
    assert.deepEqual(
      req!.patient.identifiers.map((i) => [i.id, i.authority, i.authorityUid, i.type]),
      [['1001', 'HOSP', '1.2.3', 'MR'], ['555', 'NATID', '', 'NI']],
    );
    assert.equal(req!.order.accession, 'ACC9');
    assert.equal(req!.order.studyInstanceUid, '1.2.3.9');
    assert.equal(req!.order.modality, 'CT');
    assert.deepEqual(req!.order.procedure, { code: '71250', text: 'CT THORAX', system: 'CPT4' });
    assert.equal(req!.order.scheduledAt, '2024-01-10T09:00:00+01:00');
    assert.deepEqual(req!.orders.map((o) => o.accession), ['ACC9']);
    assert.equal(req!.priors.length, 1);
    const p = req!.priors[0]!;
    assert.equal(p.accession, 'OLD1');
    assert.equal(p.studyInstanceUid, '1.2.3.1');
    assert.equal(p.reportStatus, 'final');
    assert.match(p.reportId ?? '', /^R\d+$/);
    assert.equal(p.studyTime, '2023-06-01T09:00:00+02:00');
  });

  it('the relevance table chooses priors by modality and body region; look-back, later studies, cancelled orders and maxPriors limit them', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { relevance: RELEVANCE, lookBackDays: 365 * 3, maxPriors: 3 } } });
    const ct = (acc: string, scheduled: string, code: string, modality = 'CT', extra = {}) =>
      orm({ accession: acc, scheduled, service: `${code}^${code}^LOCAL`, modality, time: scheduled, ...extra });
    h.send(
      ct('CT-2023', '20230301090000', 'CTCHEST'),
      ct('CR-2022', '20220301090000', 'XRCHEST', 'CR'),
      ct('CT-2021', '20210301090000', 'CTCHEST'),
      ct('CT-2020', '20200301090000', 'CTCHEST'),
      ct('CT-2019', '20190301090000', 'CTCHEST'), // beyond 3 years
      ct('HEAD-2023', '20230401090000', 'CTHEAD'), // other region
      ct('MR-2023', '20230501090000', 'MRCHEST', 'MR'), // other modality
      ct('LATER', '20240201090000', 'CTCHEST'), // after the order
      ct('CANC', '20230601090000', 'CTCHEST'),
      orm({ accession: 'CANC', control: 'CA', status: 'CA', scheduled: '20230601090000', service: 'CTCHEST^CTCHEST^LOCAL', time: '20230602090000' }),
    );
    const [req] = prefetches(h.send(ct('NEW', '20240110090000', 'CTCHEST')));
    assert.equal(req!.order.bodyRegion, 'CHEST');
    assert.deepEqual(req!.priors.map((p) => p.accession), ['CT-2023', 'CR-2022', 'CT-2021']);
    assert.deepEqual(req!.priors.map((p) => p.bodyRegion), ['CHEST', 'CHEST', 'CHEST']);

    // An MR row relates MR only, with no region: the MR prior, whatever its region.
    const [mr] = prefetches(h.send(ct('NEW-MR', '20240110100000', 'MRHEAD', 'MR')));
    assert.deepEqual(mr!.priors.map((p) => p.accession), ['MR-2023']);
  });

  it('without a table, priors are the same modality, any body region; an order without a modality takes any', async (t) => {
    const h = await harness(t);
    h.send(
      orm({ accession: 'A-CT', scheduled: '20230101090000', modality: 'CT', time: '20230101090000' }),
      orm({ accession: 'A-MR', scheduled: '20230201090000', modality: 'MR', time: '20230201090000' }),
    );
    assert.deepEqual(prefetches(h.send(orm({ accession: 'B', modality: 'CT' })))[0]!.priors.map((p) => p.accession), ['A-CT']);
    assert.deepEqual(prefetches(h.send(orm({ accession: 'C', modality: '' })))[0]!.priors.map((p) => p.accession), ['A-MR', 'A-CT']);
  });

  it('priors follow merges and links: studies of an absorbed patient count, its identifiers travel as mergedIdentifiers', async (t) => {
    const h = await harness(t);
    h.send(
      adt('A04', '2001^^^HOSP^MR'),
      orm({ ids: '2001^^^HOSP^MR', accession: 'SRC-1', scheduled: '20230101090000', time: '20230101090000' }),
      adt('A04', '3001^^^HOSP^MR', { name: 'ROE^JANE' }),
      orm({ ids: '3001^^^HOSP^MR', accession: 'TGT-1', scheduled: '20230301090000', time: '20230301090000' }),
      adt('A04', '4001^^^CLINIC^MR'),
      orm({ ids: '4001^^^CLINIC^MR', accession: 'LNK-1', scheduled: '20230201090000', time: '20230201090000' }),
      adt('A40', '3001^^^HOSP^MR', { mrg: '2001^^^HOSP^MR' }),
      Buffer.from(
        [
          'MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102120000||ADT^A24^ADT_A24|L1|P|2.5.1',
          'EVN|A24|20240102120000',
          'PID|1||3001^^^HOSP^MR||ROE^JANE',
          'PID|2||4001^^^CLINIC^MR||ROE^JANE',
        ].join('\r') + '\r',
      ),
    );
    // A new order citing the absorbed identifier lands on the survivor.
    const [req] = prefetches(h.send(orm({ ids: '2001^^^HOSP^MR', accession: 'NEW', scheduled: '20240110090000' })));
    assert.deepEqual(req!.patient.identifiers.map((i) => `${i.id}^${i.authority}`), ['3001^HOSP']);
    assert.deepEqual(req!.patient.mergedIdentifiers.map((i) => `${i.id}^${i.authority}`), ['2001^HOSP']);
    assert.deepEqual(req!.patient.linkedIdentifiers.map((i) => `${i.id}^${i.authority}`), ['4001^CLINIC']);
    assert.deepEqual(req!.priors.map((p) => p.accession), ['TGT-1', 'LNK-1', 'SRC-1']);
  });

  it('SIU^S12 triggers; an order already requested for the same slot is not requested again; a new slot is', async (t) => {
    const h = await harness(t);
    const first = h.send(orm({ accession: 'S-1', placer: 'PL1', filler: 'FL1', scheduled: '20240110090000' }));
    assert.equal(prefetches(first).length, 1);
    const same = h.send(siu('S12', { placer: 'PL1', filler: 'FL1', start: '20240110090000' }));
    assert.equal(prefetches(same).length, 0, 'the same order and time: no second request');
    const moved = h.send(siu('S12', { placer: 'PL1', filler: 'FL1', start: '20240111090000' }));
    const [req] = prefetches(moved);
    assert.equal(req!.trigger, 'S12');
    assert.equal(req!.order.accession, 'S-1');
    assert.equal(req!.order.scheduledAt, '2024-01-11T09:00:00+01:00');
    assert.equal(prefetches(h.send(siu('S13', { placer: 'PL1', filler: 'FL1', start: '20240112090000' }))).length, 0, 'S13 is no trigger');
  });

  it('triggers are configurable: S12 only ignores ORM; A04 (optional) requests each scheduled order still to come', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { triggers: ['S12'] } } });
    assert.equal(prefetches(h.send(orm({ accession: 'X-1', placer: 'PX', filler: 'FX' }))).length, 0);
    assert.equal(prefetches(h.send(siu('S12', { placer: 'PX', filler: 'FX', start: '20240110090000' })))[0]!.trigger, 'S12');
    assert.equal(prefetches(h.send(adt('A04', '1001^^^HOSP^MR'))).length, 0, 'A04 is off by default');

    const a = await harness(t, { workflows: { prefetch: { triggers: ['A04', 'A05'] } } });
    a.send(
      orm({ accession: 'PAST', scheduled: '20240101090000' }),
      orm({ accession: 'SOON', scheduled: '20240110090000' }),
      orm({ accession: 'DONE', scheduled: '20240111090000' }),
      orm({ accession: 'DONE', control: 'XO', status: 'CM', scheduled: '20240111090000' }),
    );
    const reqs = prefetches(a.send(adt('A04', '1001^^^HOSP^MR', { time: '20240105080000' })));
    assert.deepEqual(reqs.map((r) => [r.trigger, r.order.accession]), [['A04', 'SOON']]);
    assert.equal(prefetches(a.send(adt('A05', '1001^^^HOSP^MR', { time: '20240105090000' }))).length, 0, 'already requested for that slot');
  });

  it('fetchAt is the scheduled time minus the lead time, written in the configured zone across a daylight-saving change', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { leadTimeMinutes: 720 } } });
    // Sunday 2024-03-31 09:00 CEST (07:00Z) - 12 h = Saturday 19:00Z = 20:00 CET.
    const [req] = prefetches(h.send(orm({ accession: 'DST', scheduled: '20240331090000' })));
    assert.equal(req!.order.scheduledAt, '2024-03-31T09:00:00+02:00');
    assert.equal(req!.order.fetchAt, '2024-03-30T20:00:00+01:00');
    const ny = await harness(t, { workflows: { prefetch: { leadTimeMinutes: 60, timeZone: 'America/New_York' } } });
    const [r2] = prefetches(ny.send(orm({ accession: 'MID', scheduled: '20240110003000' })));
    // 00:30 Berlin is 18:30 the day before in New York; an hour earlier is 17:30.
    assert.equal(r2!.order.fetchAt, '2024-01-09T17:30:00-05:00');
  });

  it('prefetch.enabled false emits no per-order request', async (t) => {
    const h = await harness(t, { workflows: { prefetch: { enabled: false } } });
    assert.deepEqual(h.send(orm({ accession: 'OFF' })).map((e) => e.type), ['patient.created', 'order.scheduled']);
  });

  it('a rebuild (silent messages) appends no workflow event', async (t) => {
    const first = await harness(t);
    first.store.repository.env.transactionSync(() => first.store.state.setSilentThrough(1));
    const h = new Harness(first.options, first.store);
    assert.deepEqual(h.send(orm({ accession: 'SILENT' })), []);
    assert.equal(prefetches(h.send(orm({ accession: 'LOUD' }))).length, 1);
  });
});

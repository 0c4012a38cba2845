/**
 * `ackOn: "apply"` end to end over MLLP: the ACK waits for the conversion and is AA, or AE
 * with an ERR segment built from the conversion error; a resend gets the stored outcome.
 * With the default `ackOn: "commit"` the ACK never waits for the converter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MllpClient, readAck } from '../../src/mllp/client.js';
import { seg, testEngine } from '../listener/helpers.js';
import { a04, a04WithoutId, hl7 } from './helpers.js';

describe('ackOn apply', () => {
  it('answers AA once applied and AE with ERR (code, location, reason) when conversion fails; a resend gets the stored outcome', async (t) => {
    const te = await testEngine(undefined, { ackOn: 'apply' });
    t.after(() => te.close());
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const good = await client.send(a04('OK1', 'MRN-OK1'));
    assert.deepEqual(readAck(good), { code: 'AA', controlId: 'OK1' });
    const converter = te.engine.converter!;
    assert.ok(converter.position() >= 1, 'AA came after the conversion was committed');
    assert.equal(te.engine.store!.repository.digest().length, 64);

    const bad = await client.send(a04WithoutId('BAD1'));
    assert.equal(readAck(bad).code, 'AE');
    assert.equal(readAck(bad).controlId, 'BAD1');
    const err = seg(bad, 'ERR')!;
    assert.equal(err[2], 'PID^1^3', 'ERR-2 points at PID-3');
    assert.match(err[3]!, /^101\^/, 'ERR-3 is table 0357 code 101');
    assert.equal(err[4], 'E');
    assert.match(err[8]!, /PID-3/, 'ERR-8 gives the reason');
    assert.match(seg(bad, 'MSA')![3]!, /PID-3/, 'MSA-3 too');
    assert.equal(te.engine.store!.deadLetters.get(2)?.code, 'MISSING_FIELD');

    // A resend of the same message (same sender, control ID and body) is a duplicate: stored outcome.
    const again = await client.send(a04WithoutId('BAD1'));
    assert.equal(readAck(again).code, 'AE');
    assert.equal(te.engine.log.lastSeq(), 2, 'not appended twice');
    const goodAgain = await client.send(a04('OK1', 'MRN-OK1'));
    assert.equal(readAck(goodAgain).code, 'AA');

    const metrics = te.engine.metrics.registry;
    const counted = await metrics.getSingleMetricAsString('pacslink_converter_messages_total');
    assert.match(counted, /type="ADT\^A04",outcome="applied"} 1/);
    assert.match(counted, /type="ADT\^A04",outcome="dead-letter"} 1/);
    assert.match(await metrics.getSingleMetricAsString('pacslink_dead_letters'), /pacslink_dead_letters 1/);
    assert.match(await metrics.getSingleMetricAsString('pacslink_events_published_total'), /type="message.rejected"} 1/);
  });

  it('conversionErrorAck answers a failed conversion with AR (ERR kept) or AA for partners that need it (quirk 24)', async (t) => {
    for (const code of ['AR', 'AA'] as const) {
      const te = await testEngine(undefined, { ackOn: 'apply', conversionErrorAck: code });
      t.after(() => te.close());
      const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
      t.after(() => client.close());
      const bad = await client.send(a04WithoutId(`BAD-${code}`));
      assert.equal(readAck(bad).code, code);
      if (code === 'AR') assert.match(seg(bad, 'ERR')![3]!, /^101\^/, 'the ERR segment still says why');
      else assert.equal(seg(bad, 'ERR'), undefined);
      assert.equal(te.engine.store!.deadLetters.get(1)?.code, 'MISSING_FIELD', 'the message is dead-lettered either way');
      assert.deepEqual(readAck(await client.send(a04(`OK-${code}`, 'MRN-1'))), { code: 'AA', controlId: `OK-${code}` });
    }
  });

  it('enhanced mode keeps the accept ACK (CA) on commit even under ackOn apply', async (t) => {
    const te = await testEngine(undefined, { ackOn: 'apply' });
    t.after(() => te.close());
    await te.engine.converter!.stop(); // nothing will be converted: a CA must not wait for it
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const msg = hl7(
      `MSH|^~\\&|HIS|HOSP|PACS|RAD|20240102120000||ADT^A04^ADT_A01|ENH1|P|2.5.1|||AL|NE`,
      `PID|1||||NOID^JOHN`,
    );
    assert.deepEqual(readAck(await client.send(msg)), { code: 'CA', controlId: 'ENH1' });
  });

  it('with ackOn commit, a message is acknowledged AA on commit while the converter does nothing', async (t) => {
    const te = await testEngine(undefined, {});
    t.after(() => te.close());
    const converter = te.engine.converter!;
    await converter.stop();
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    assert.deepEqual(readAck(await client.send(a04WithoutId('C1'))), { code: 'AA', controlId: 'C1' });
    assert.deepEqual(readAck(await client.send(a04('C2', 'M2'))), { code: 'AA', controlId: 'C2' });
    assert.equal(te.engine.log.lastSeq(), 2);
    assert.equal(converter.position(), 0, 'nothing was converted');
  });

  it('under ackOn apply, a message the stopped converter never reached is answered AR (stored; resend for the outcome)', async (t) => {
    const te = await testEngine(undefined, { ackOn: 'apply' });
    t.after(() => te.close());
    await te.engine.converter!.stop();
    const client = await MllpClient.connect({ host: '127.0.0.1', port: te.port });
    t.after(() => client.close());
    const ack = await client.send(a04('S1', 'M1'));
    assert.equal(readAck(ack).code, 'AR');
    assert.match(seg(ack, 'ERR')![3]!, /^207\^/);
    assert.equal(te.engine.log.lastSeq(), 1, 'the message is stored');
  });
});

/** The `workflows` configuration section: defaults, the engine's time zone, exact validation messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveEngineOptions } from '../../src/config.js';
import { resolveWorkflowsOptions, WORKFLOWS_DEFAULTS, type WorkflowsInput } from '../../src/workflows/options.js';

test('defaults: order and S12 triggers, 5 years, 5 priors, 12 h lead, daily at 18:00 for tomorrow, every sync change', () => {
  const o = resolveWorkflowsOptions(undefined, 'Europe/Berlin');
  assert.deepEqual(o, {
    prefetch: {
      enabled: true,
      triggers: ['order', 'S12'],
      relevance: [],
      lookBackDays: 1825,
      maxPriors: 5,
      leadTimeMinutes: 720,
      daily: { enabled: true, time: '18:00', daysAhead: 1, windowDays: 1 },
      timeZone: 'Europe/Berlin',
    },
    sync: { enabled: true, changes: ['demographics', 'identifiers', 'merge', 'order'] },
  });
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.prefetch) && Object.isFrozen(o.prefetch.daily) && Object.isFrozen(WORKFLOWS_DEFAULTS));
});

test('the time zone defaults to the engine\'s mapping.timeZone and may be set on its own', () => {
  assert.equal(resolveEngineOptions({ mapping: { timeZone: 'Asia/Tokyo' } }).workflows.prefetch.timeZone, 'Asia/Tokyo');
  assert.equal(resolveEngineOptions({ mapping: { timeZone: 'Asia/Tokyo' }, workflows: { prefetch: { timeZone: 'UTC' } } }).workflows.prefetch.timeZone, 'UTC');
});

test('relevance rows are normalised (modalities and regions upper case) and kept in order', () => {
  const o = resolveWorkflowsOptions({ prefetch: { relevance: [{ procedureCode: ' CT1 ', modality: 'ct', bodyRegion: 'chest', priorModalities: ['ct', '*'] }, {}] } }, 'UTC');
  assert.deepEqual(o.prefetch.relevance, [{ procedureCode: 'CT1', modality: 'CT', bodyRegion: 'CHEST', priorModalities: ['CT', '*'] }, {}]);
});

test('bad values are refused with exact messages', () => {
  const cases: Array<[WorkflowsInput | unknown, string]> = [
    [[], 'workflows must be an object'],
    [{ prefetch: 1 }, 'workflows.prefetch must be an object'],
    [{ prefetch: { enabled: 'yes' } }, 'workflows.prefetch.enabled must be a boolean'],
    [{ prefetch: { triggers: ['ORM'] } }, 'workflows.prefetch.triggers must be a list of "order", "S12", "A04", "A05"'],
    [{ prefetch: { relevance: {} } }, 'workflows.prefetch.relevance must be an array'],
    [{ prefetch: { relevance: [3] } }, 'workflows.prefetch.relevance[0] must be an object'],
    [{ prefetch: { relevance: [{ region: 'X' }] } }, 'workflows.prefetch.relevance[0] has an unknown field "region" (known: procedureCode, modality, bodyRegion, priorModalities)'],
    [{ prefetch: { relevance: [{ modality: '' }] } }, 'workflows.prefetch.relevance[0].modality must be a non-empty string'],
    [{ prefetch: { relevance: [{ priorModalities: [] }] } }, 'workflows.prefetch.relevance[0].priorModalities must be a non-empty list of modalities (or "*")'],
    [{ prefetch: { lookBackDays: 0 } }, 'workflows.prefetch.lookBackDays must be between 1 and 36500'],
    [{ prefetch: { maxPriors: 1.5 } }, 'workflows.prefetch.maxPriors must be between 1 and 1000'],
    [{ prefetch: { leadTimeMinutes: -1 } }, 'workflows.prefetch.leadTimeMinutes must be between 0 and 525600'],
    [{ prefetch: { timeZone: 'Mars/Olympus' } }, 'workflows.prefetch.timeZone must be an IANA time zone name, got "Mars/Olympus"'],
    [{ prefetch: { daily: [] } }, 'workflows.prefetch.daily must be an object'],
    [{ prefetch: { daily: { enabled: 1 } } }, 'workflows.prefetch.daily.enabled must be a boolean'],
    [{ prefetch: { daily: { time: '24:00' } } }, 'workflows.prefetch.daily.time must be HH:MM between 00:00 and 23:59'],
    [{ prefetch: { daily: { time: '7:30' } } }, 'workflows.prefetch.daily.time must be HH:MM between 00:00 and 23:59'],
    [{ prefetch: { daily: { daysAhead: 31 } } }, 'workflows.prefetch.daily.daysAhead must be between 0 and 30'],
    [{ prefetch: { daily: { windowDays: 0 } } }, 'workflows.prefetch.daily.windowDays must be between 1 and 31'],
    [{ sync: null }, 'workflows.sync must be an object'],
    [{ sync: { enabled: 0 } }, 'workflows.sync.enabled must be a boolean'],
    [{ sync: { changes: ['names'] } }, 'workflows.sync.changes must be a list of "demographics", "identifiers", "merge", "order"'],
    [{ sync: { primaryAuthority: ' ' } }, 'workflows.sync.primaryAuthority must be a non-empty string'],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => resolveWorkflowsOptions(input as WorkflowsInput, 'UTC'), (e: Error) => e.message === message, message);
  }
  // Through the engine's configuration too.
  assert.throws(() => resolveEngineOptions({ workflows: { prefetch: { maxPriors: 0 } } }), { message: 'workflows.prefetch.maxPriors must be between 1 and 1000' });
});

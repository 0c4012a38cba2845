import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRepositoryPolicies, openRepository } from '../../src/repository/index.js';
import { resolveRepositoryOptions } from '../../src/repository/options.js';

test('default policies are frozen: create unknown patients, ignore duplicate merges, upsert unknown cancels', () => {
  assert.deepEqual({ ...defaultRepositoryPolicies }, { createUnknownPatients: true, mergedSourcePolicy: 'ignore-duplicate', unknownOrderCancel: 'upsert' });
  assert.ok(Object.isFrozen(defaultRepositoryPolicies));
  assert.equal(resolveRepositoryOptions({ path: '/x', policies: { unknownOrderCancel: 'reject' } }).policies.mergedSourcePolicy, 'ignore-duplicate');
});

test('invalid options are refused with exact messages', async () => {
  await assert.rejects(openRepository({ path: '' }), { name: 'TypeError', message: 'repository.path must be a non-empty string' });
  assert.throws(() => resolveRepositoryOptions({ path: '/x', policies: { mergedSourcePolicy: 'merge' as never } }), {
    name: 'RangeError',
    message: "repository.policies.mergedSourcePolicy must be 'reject', 'ignore-duplicate' or 'accept-inverse'",
  });
  assert.throws(() => resolveRepositoryOptions({ path: '/x', policies: { unknownOrderCancel: 'drop' as never } }), {
    name: 'RangeError',
    message: "repository.policies.unknownOrderCancel must be 'upsert' or 'reject'",
  });
  assert.throws(() => resolveRepositoryOptions({ path: '/x', policies: { createUnknownPatients: 'yes' as never } }), {
    name: 'TypeError',
    message: 'repository.policies.createUnknownPatients must be a boolean',
  });
});

/** Helpers for the repository tests: a fresh repository per test and builders for change records. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Change, MessageContext, PatientData } from '../../src/converter/changes.js';
import type { NewEvent } from '../../src/events/types.js';
import { openRepository, type ApplyOutcome, type Repository, type RepositoryPolicies } from '../../src/repository/index.js';
import type { Identifier } from '../../src/repository/model.js';

/** Opens a repository in a temp directory, closed and removed after the test. */
export async function tempRepository(t: TestContext, policies: Partial<RepositoryPolicies> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'pacslink-repo-'));
  const repo = await openRepository({ path: dir, policies });
  t.after(async () => {
    await repo.close();
    await rm(dir, { recursive: true, force: true });
  });
  return new Harness(repo);
}

/** Drives `apply` like the converter does: one transaction per message, seqs from 1. */
export class Harness {
  readonly repo: Repository;
  readonly events: NewEvent[] = [];
  seq = 0;
  constructor(repo: Repository) {
    this.repo = repo;
  }

  /** Applies one message; returns its outcome and the events it emitted. */
  apply(context: Partial<MessageContext> & { triggerEvent: string }, ...changes: Change[]): { outcome: ApplyOutcome; events: NewEvent[] } {
    const seq = ++this.seq;
    const events: NewEvent[] = [];
    const ctx: MessageContext = { messageCode: 'ADT', sender: 'HIS^HOSP', controlId: `C${seq}`, ...context };
    const outcome = this.repo.env.transactionSync(() => this.repo.apply({ context: ctx, changes }, seq, (e) => events.push(e)));
    this.events.push(...events);
    return { outcome, events };
  }

  /** Applies and asserts the message was accepted; returns its events' types. */
  ok(context: Partial<MessageContext> & { triggerEvent: string }, ...changes: Change[]): string[] {
    const { outcome, events } = this.apply(context, ...changes);
    if (outcome.kind !== 'applied') throw new Error(`rejected: ${outcome.error.code} ${outcome.error.message}`);
    return events.map((e) => e.type);
  }

  /** The survivor a patient identifier names. */
  patientById(id: string, authority = 'HOSP') {
    return this.repo.findPatients({ identifier: id, authority }).items[0];
  }
}

/** An identifier of authority HOSP (or the one given). */
export function id(value: string, authority = 'HOSP', type = 'MR'): Identifier {
  return { id: value, authority, authorityUid: '', authorityUidType: '', type };
}

/** PatientData with a name. */
export function pid(value: string, extra: Omit<PatientData, 'identifiers'> = {}, more: Identifier[] = []): PatientData {
  return { identifiers: [id(value), ...more], ...extra };
}

/** Epoch ms of an ISO time. */
export function at(iso: string): number {
  return Date.parse(iso);
}

/** A name. */
export function name(family: string, given = ''): { family: string; given: string; middle: string; suffix: string; prefix: string } {
  return { family, given, middle: '', suffix: '', prefix: '' };
}

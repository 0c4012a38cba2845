/**
 * A deterministic fingerprint of the repository: SHA-256 over every `repo.*` database, in name
 * order, of each key and its value in key order. Values are hashed in canonical form (sorted
 * object keys), attachment bytes as stored, so the digest depends only on the content.
 */
import { createHash } from 'node:crypto';
import { canonical } from './canonical.js';
import { DbName, decodeValue, type Stores } from './store.js';

function lengthPrefixed(b: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** SHA-256 (hex) of the repository's content. */
export function repositoryDigest(stores: Stores): string {
  const hash = createHash('sha256');
  for (const name of Object.values(DbName).sort()) {
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    for (const { key, value } of stores[name].getRange({})) {
      hash.update(lengthPrefixed(key));
      const bytes = name === DbName.Attachments || value.length === 0 ? value : Buffer.from(canonical(decodeValue(value)), 'utf8');
      hash.update(lengthPrefixed(bytes));
    }
  }
  return hash.digest('hex');
}

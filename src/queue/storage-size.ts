/**
 * How much storage the inbound log uses, for `maxStorageBytes`: exact for committed data
 * (LMDB's own page counts), estimated for appends not yet committed.
 */

/** Estimated storage of a record's header and dedup entry beyond their measured bytes. */
const RECORD_OVERHEAD_BYTES = 256;

/**
 * Upper estimate of the LMDB bytes a record with `size` message bytes will take, its header
 * and dedup entry included. A value larger than half a page goes to overflow pages; a
 * smaller one shares leaf pages, which splits leave as little as half full, so its share of
 * a page is doubled. `extraBytes` counts variable-length metadata (strings, dedup key),
 * which is stored in the record's header and again, on half-full pages at worst, as the
 * dedup key.
 */
export function estimateRecordBytes(size: number, pageSize: number, extraBytes = 0): number {
  const value = size + extraBytes;
  const node = 12 + value; // node header (8) + uint32 key (4) + value
  const other = 2 * extraBytes + RECORD_OVERHEAD_BYTES;
  if (node > (pageSize - 16) >> 1) return Math.ceil((value + 16) / pageSize) * pageSize + 24 + other;
  const perPage = Math.max(1, Math.floor((pageSize - 16) / (node + 2)));
  return 2 * Math.ceil(pageSize / perPage) + other;
}

interface PageStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

/**
 * Live bytes of the given LMDB databases: their branch, leaf and overflow pages times the
 * page size (about 4 µs per database). Free pages, which LMDB reuses, are not counted, so
 * the data file itself can be larger.
 */
export function liveBytes(dbs: ReadonlyArray<{ getStats(): object }>): number {
  let bytes = 0;
  for (const db of dbs) {
    const s = db.getStats() as PageStats;
    bytes += (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize;
  }
  return bytes;
}

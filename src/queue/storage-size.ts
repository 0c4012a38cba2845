/**
 * How much storage the inbound log uses, for `maxStorageBytes`: exact for committed data
 * (LMDB's own page counts), estimated for appends not yet committed.
 */

/** Estimated storage of a record's metadata, dedup entry and dedup-age entry. */
const RECORD_OVERHEAD_BYTES = 256;

/**
 * Upper estimate of the LMDB bytes a record with `size` raw bytes will take. A value larger
 * than half a page goes to overflow pages; a smaller one shares leaf pages, which splits
 * leave as little as half full, so its share of a page is doubled.
 */
export function estimateRecordBytes(size: number, pageSize: number): number {
  const node = 12 + size; // node header (8) + uint32 key (4) + value
  if (node > (pageSize - 16) >> 1) return Math.ceil((size + 16) / pageSize) * pageSize + 24 + RECORD_OVERHEAD_BYTES;
  const perPage = Math.max(1, Math.floor((pageSize - 16) / (node + 2)));
  return 2 * Math.ceil(pageSize / perPage) + RECORD_OVERHEAD_BYTES;
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

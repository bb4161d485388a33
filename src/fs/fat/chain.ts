// Cluster chains: following, allocating and freeing them. Source: Microsoft "FAT32 File System Specification"
// v1.03 (fatgen103) §4 (a chain runs from the directory entry's first cluster through FAT entries to an EOC mark;
// clusters 0 and 1 are reserved, valid numbers are 2 .. CountofClusters + 1).
import { WinrescueError } from '../../errors.js';
import { chainError, FREE, type FatTable } from './fat-table.js';

/**
 * Every cluster of the chain starting at `first`, in order. Never loops: a cluster met twice, a free, bad or
 * out-of-range entry, or a chain longer than the volume is a `fat.badChain` error.
 */
export function followChain(fat: FatTable, first: number, path?: string): number[] {
  if (first === 0) return [];
  const seen = new Uint8Array(fat.maxCluster + 1);
  const out: number[] = [];
  let n = first;
  for (;;) {
    if (n < 2 || n > fat.maxCluster) {
      throw chainError(`cluster ${n} of ${path ?? 'a chain'} lies outside 2..${fat.maxCluster}`, n, n, path);
    }
    if (seen[n]) throw chainError(`${path ?? 'a chain'} loops back to cluster ${n}`, n, 'loop', path);
    seen[n] = 1;
    out.push(n);
    const next = fat.get(n);
    const kind = fat.kind(next);
    if (kind === 'eoc') return out;
    if (kind !== 'next') {
      throw chainError(
        `${path ?? 'a chain'}: cluster ${n} is followed by a ${kind} entry (${next})`,
        n,
        next,
        path,
      );
    }
    n = next;
  }
}

/** Contiguous runs of a cluster list, so that reads and writes go out in as few calls as the layout allows. */
export function runsOf(clusters: readonly number[]): { first: number; count: number }[] {
  const runs: { first: number; count: number }[] = [];
  for (const c of clusters) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.first + last.count === c) last.count++;
    else runs.push({ first: c, count: 1 });
  }
  return runs;
}

/**
 * Picks `count` free clusters (free in every copy we keep), preferring one contiguous run right after `after`,
 * then the first run anywhere long enough, then the first free clusters found. Nothing is written here.
 */
export function pickFreeClusters(fat: FatTable, count: number, after: number): number[] {
  if (count === 0) return [];
  const max = fat.maxCluster;
  const isFree = (n: number): boolean => fat.get(n) === FREE && fat.agrees(n);
  const runAt = (start: number): number => {
    let len = 0;
    while (start + len <= max && len < count && isFree(start + len)) len++;
    return len;
  };
  if (after >= 2 && after < max && runAt(after + 1) === count) {
    return Array.from({ length: count }, (_, i) => after + 1 + i);
  }
  for (let n = 2; n <= max;) {
    const len = runAt(n);
    if (len === count) return Array.from({ length: count }, (_, i) => n + i);
    n += len + 1;
  }
  const out: number[] = [];
  for (let n = 2; n <= max && out.length < count; n++) if (isFree(n)) out.push(n);
  if (out.length < count) {
    throw new WinrescueError('fat.full', `the volume has ${out.length} free clusters, ${count} needed`, {
      structure: 'fat.table',
      expected: count,
      actual: out.length,
    });
  }
  return out;
}

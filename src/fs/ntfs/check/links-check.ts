// After the passes: attribute lists against the records they join (flatcap linux-ntfs
// ntfs/attributes/attribute_list.html: every attribute of the file but the list itself has an entry naming its
// record), clusters claimed twice or marked free (owners found by a second pass, run only when there are any),
// files that no index names, and link counts against the $FILE_NAME attributes (ntfs-3g layout.h MFT_RECORD
// link_count: the directory entries referencing the record).
import { isWinrescueError } from '../../../errors.js';
import { ATTR, attributeTypeName } from '../attribute.js';
import type { NtfsVolume } from '../volume.js';
import { ClusterMap, type Range, type RangeBuilder } from './cluster-map.js';
import { forEachRecordChunk, type PassState } from './mft-pass.js';
import { formatRanges, type Findings } from './problems.js';
import { checkRecord } from './record-check.js';
import {
  BIT_ATTRIBUTE_LIST,
  BIT_INCOMPLETE,
  BIT_PARTIAL,
  STATE_DAMAGED,
  type NameTable,
  type RecordTable,
} from './record-table.js';

/** Records below this are system files or reserved (12..23): never orphans, even without a name. */
const FIRST_USER_RECORD = 24;
/** Clusters of conflicts whose owners are tracked one by one (more only say "and more"). */
const MAX_CONFLICT_CLUSTERS = 1 << 16;

/** Resolves each attribute list and checks it names every attribute and extension record of its file. */
export async function checkAttributeLists(s: PassState): Promise<void> {
  const { vol, table, findings } = s;
  const listed = new Map<number, Set<number>>();
  for (const b of s.attributeLists) {
    let file;
    try {
      file = await vol.file(b);
    } catch (e) {
      if (!isWinrescueError(e)) throw e;
      findings.add('bad-attribute-list', b, e.message.replace(/^MFT record \d+ at 0x[0-9a-f]+: /, ''));
      table.flag(b, BIT_PARTIAL);
      continue;
    }
    const list = file.attributeList ?? [];
    listed.set(b, new Set(list.map((e) => e.reference.record)));
    const missing: string[] = [];
    for (const rec of [file.base, ...file.extensions]) {
      for (const a of rec.attributes) {
        if (a.type === ATTR.ATTRIBUTE_LIST) continue;
        const found = list.some(
          (e) =>
            e.type === a.type &&
            e.id === a.id &&
            e.name === a.name &&
            e.reference.record === rec.recordNumber,
        );
        if (!found)
          missing.push(
            `${attributeTypeName(a.type)}${a.name ? `:${a.name}` : ''} id ${a.id} in record ${rec.recordNumber}`,
          );
      }
    }
    if (missing.length > 0) {
      table.flag(b, BIT_PARTIAL);
      findings.add(
        'bad-attribute-list',
        b,
        `the attribute list (${list.length} entries) leaves out ${missing.length} attribute(s): ${missing.slice(0, 4).join(', ')}`,
      );
    }
  }
  for (const e of s.extensions) {
    const b = table.baseRecord[e]!;
    if (!table.inUseBase(b)) {
      findings.add(
        'bad-extension-record',
        e,
        `extension record of record ${b}, which is ${table.describe(b)}`,
      );
    } else if ((table.bits[b]! & BIT_ATTRIBUTE_LIST) === 0) {
      findings.add('bad-extension-record', e, `extension record of record ${b}, which has no attribute list`);
    } else if (listed.get(b)?.has(e) === false) {
      table.flag(b, BIT_PARTIAL);
      findings.add(
        'bad-attribute-list',
        b,
        `extension record ${e} says it belongs here, the attribute list does not name it`,
      );
    }
  }
}

/** Second pass, only when cluster accounting found clashes or clusters in use marked free: names the owners. */
export async function findClusterOwners(
  vol: NtfsVolume,
  clusters: ClusterMap,
  unmarked: RangeBuilder | null,
  findings: Findings,
): Promise<void> {
  const conflicts = clusters.conflicts;
  const free = unmarked?.bits ?? null;
  const owners = new Map<number, number[]>();
  const perRecord = new Map<number, { shared: Range[]; free: Range[]; attribute: string }>();
  const rs = vol.recordSize;
  await forEachRecordChunk(vol, (first, buf, count) => {
    if (!buf) return;
    for (let k = 0; k < count; k++) {
      const n = first + k;
      const raw = buf.subarray(k * rs, (k + 1) * rs);
      if (raw[0] !== 0x46) continue;
      const facts = checkRecord(raw, n, vol.recordOffset(n), vol.boot.totalClusters, vol.clusterSize);
      if (facts.state !== 'inUse') continue;
      for (const c of facts.claims) {
        const shared = conflicts ? ClusterMap.rangesIn(conflicts, c.lcn, c.length) : [];
        const gone = free ? ClusterMap.rangesIn(free, c.lcn, c.length) : [];
        if (shared.length === 0 && gone.length === 0) continue;
        const entry = perRecord.get(n) ?? { shared: [], free: [], attribute: c.attribute };
        entry.shared.push(...shared);
        entry.free.push(...gone);
        perRecord.set(n, entry);
        for (const [a, len] of shared)
          for (let x = a; x < a + len && owners.size < MAX_CONFLICT_CLUSTERS; x++) {
            const o = owners.get(x) ?? [];
            if (!o.includes(n)) o.push(n);
            owners.set(x, o);
          }
      }
    }
  });
  for (const [n, e] of perRecord) {
    if (e.shared.length > 0) {
      const others = new Set<number>();
      for (const [a, len] of e.shared)
        for (let x = a; x < a + len; x++) for (const o of owners.get(x) ?? []) if (o !== n) others.add(o);
      findings.add(
        'cross-linked-clusters',
        n,
        `${e.attribute} clusters ${formatRanges(e.shared)} are also claimed by record(s) ${[...others].sort((a, b) => a - b).join(', ') || '(the same file)'}`,
      );
    }
    if (e.free.length > 0) {
      const total = e.free.reduce((t, [, len]) => t + len, 0);
      findings.add(
        'unmarked-clusters',
        n,
        `${total} cluster(s) of ${e.attribute} are marked free in $Bitmap: ${formatRanges(e.free)}`,
      );
    }
  }
}

/** Files no index names, names missing from their directory, and link counts. */
export function checkNamesAndLinks(table: RecordTable, names: NameTable, findings: Findings): void {
  const UNINDEXED = 1;
  const UNKNOWN = 2;
  const marks = new Uint8Array(table.count);
  for (let i = 0; i < names.size; i++) {
    if (names.hits[i]! > 0) continue;
    const r = names.owner[i]!;
    const p = names.parent[i]!;
    if (table.has(p, BIT_INCOMPLETE) || (p < table.count && table.state[p] === STATE_DAMAGED)) {
      marks[r]! |= UNKNOWN;
      continue;
    }
    marks[r]! |= UNINDEXED;
    const ps = names.parentSequence[i]!;
    if (!table.isDirectory(p))
      findings.add(
        'bad-file-name',
        r,
        `a $FILE_NAME names parent record ${p}, which is not a directory in use (${table.describe(p)})`,
      );
    else if (ps !== 0 && ps !== table.sequence[p])
      findings.add(
        'bad-file-name',
        r,
        `a $FILE_NAME names parent record ${p} with sequence ${ps}; the directory has sequence ${table.sequence[p]}`,
      );
  }
  for (let r = 0; r < table.count; r++) {
    if (!table.inUseBase(r) || table.has(r, BIT_PARTIAL)) continue;
    const count = table.nameCount[r]!;
    if (count === 0) {
      if (r >= FIRST_USER_RECORD)
        findings.add('orphan-file', r, 'in use but has no $FILE_NAME: no directory can name it');
      continue;
    }
    if ((marks[r]! & UNINDEXED) !== 0) {
      if (table.indexed[r] === 0 && (marks[r]! & UNKNOWN) === 0)
        findings.add('orphan-file', r, `in use, but no directory index names it (${count} name(s))`);
      else if (table.indexed[r]! > 0)
        findings.add(
          'missing-index-entry',
          r,
          `${count - table.indexed[r]!} of its ${count} names are not in their directory's index`,
        );
    }
    const links = table.linkCount[r]!;
    if (links !== count && links !== table.nonDosNames[r])
      findings.add(
        'link-count',
        r,
        `link count is ${links}, but the record has ${count} $FILE_NAME attribute(s)`,
      );
  }
}

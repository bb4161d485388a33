// Bare $MFT files copied from Windows volumes (no volume around them): every record goes through our record
// and attribute parsers, paths are rebuilt from the $FILE_NAME parent references, and the result must be what
// sleuthkit listed from the whole volume (the `.fls` files next to them, made with fls -r -p -l).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedSkip, testdataFile, SHARED_TESTDATA } from '../../helpers/testdata.js';
import { WinrescueError } from '../../../src/errors.js';
import {
  ATTR,
  NAMESPACE,
  parseFileName,
  parseMftRecord,
  type MftRecord,
  type WalkEntry,
} from '../../../src/fs/ntfs/index.js';
import { diffLines, entryLines } from './oracle.js';
import { join } from 'node:path';

/** No cluster bounds to check runs against: the volume is not there. */
const ANY_CLUSTERS = Number.MAX_SAFE_INTEGER;
const ROOT = 5;

function parseAll(bytes: Uint8Array): { records: Map<number, MftRecord>; errors: number; unused: number } {
  const size = new DataView(bytes.buffer, bytes.byteOffset).getUint32(28, true);
  const records = new Map<number, MftRecord>();
  let errors = 0;
  let unused = 0;
  for (let n = 0; (n + 1) * size <= bytes.length; n++) {
    const raw = bytes.slice(n * size, (n + 1) * size);
    if (raw.every((b) => b === 0)) {
      unused++;
      continue;
    }
    try {
      records.set(n, parseMftRecord(raw, n, n * size, ANY_CLUSTERS));
    } catch (e) {
      assert.ok(e instanceof WinrescueError, String(e));
      errors++;
    }
  }
  return { records, errors, unused };
}

/** Our listing of a bare MFT in the oracle's line format (see oracle.ts). */
function listing(records: Map<number, MftRecord>): string[] {
  const extensions = new Map<number, MftRecord[]>();
  for (const r of records.values()) {
    if (r.inUse && r.baseReference.record !== 0)
      extensions.set(r.baseReference.record, [...(extensions.get(r.baseReference.record) ?? []), r]);
  }
  const names = (r: MftRecord) =>
    r.attributes
      .filter((a) => a.type === ATTR.FILE_NAME && a.value)
      .map((a) => parseFileName(a.value!, r.recordNumber));
  const pathOf = (n: number, seen = new Set<number>()): string | null => {
    if (n === ROOT) return '';
    const r = records.get(n);
    if (!r || !r.inUse || seen.has(n)) return null;
    seen.add(n);
    const fn = names(r).find((x) => x.namespace !== NAMESPACE.DOS);
    if (!fn) return null;
    const parent = pathOf(fn.parent.record, seen);
    return parent === null ? null : `${parent}/${fn.name}`;
  };
  const lines: string[] = [];
  for (const r of records.values()) {
    if (!r.inUse || r.baseReference.record !== 0 || r.recordNumber === ROOT) continue;
    const attrs = [r, ...(extensions.get(r.recordNumber) ?? [])].flatMap((x) => x.attributes);
    const first = (a: (typeof attrs)[number]) => a.resident || a.nonResident!.startVcn === 0;
    const i30 = attrs.find((a) => a.type === ATTR.INDEX_ROOT && a.name === '$I30');
    for (const fn of names(r)) {
      if (fn.namespace === NAMESPACE.DOS) continue;
      const parent = pathOf(fn.parent.record);
      if (parent === null) continue;
      const size = (a: (typeof attrs)[number]) => (a.resident ? a.value!.length : a.nonResident!.dataSize);
      const entry: WalkEntry = {
        path: `${parent}/${fn.name}`,
        name: fn.name,
        namespace: fn.namespaceName,
        record: r.recordNumber,
        sequence: r.sequence,
        parent: fn.parent.record,
        type: i30 ? 'dir' : 'file',
        size: 0,
        streams: attrs
          .filter((a) => a.type === ATTR.DATA && first(a))
          .map((a) => ({
            name: a.name,
            size: size(a),
            allocatedSize: 0,
            resident: a.resident,
            compressed: false,
            sparse: false,
            encrypted: false,
          })),
        indexes: attrs
          .filter((a) => a.type === ATTR.INDEX_ROOT && a.name !== '$I30')
          .map((a) => ({ name: a.name, rootSize: size(a) })),
        indexRootSize: i30 ? size(i30) : 0,
      };
      lines.push(...entryLines(entry));
    }
  }
  return lines.sort();
}

function flsReference(name: string): string[] {
  const lines: string[] = [];
  for (const line of readFileSync(join(SHARED_TESTDATA, 'mft', `${name}.fls`), 'utf8').split('\n')) {
    const m = /^(\S)\/(\S) (?:\* )?(\d+)-(\d+)-\d+:\t([^\t]*)\t(?:[^\t]*\t){4}(\d+)\t/.exec(line);
    if (!m || m[5]!.startsWith('$OrphanFiles')) continue;
    lines.push(`${m[2] === 'd' ? 'd' : 'r'} ${m[3]}-${m[4]} /${m[5]} ${m[6]}`);
  }
  return lines.sort();
}

for (const name of ['4k-large', 'unicode']) {
  test(
    `bare $MFT ${name}: records parse and the rebuilt tree is what fls listed`,
    { skip: sharedSkip() },
    () => {
      const { records, errors } = parseAll(new Uint8Array(readFileSync(testdataFile(`mft/${name}.mft.gz`))));
      assert.equal(errors, 0);
      const ours = listing(records);
      const theirs = flsReference(name);
      assert.deepEqual(ours, theirs, diffLines(ours, theirs));
    },
  );
}

test(
  'bare $MFT files with compressed, sparse, deleted and orphan records: typed errors only, flags seen',
  { skip: sharedSkip() },
  () => {
    const flags = { compressed: 0, sparse: 0, deleted: 0 };
    for (const name of ['compressed_sparse', 'deleted', 'orphan']) {
      const { records } = parseAll(new Uint8Array(readFileSync(testdataFile(`mft/${name}.mft.gz`))));
      for (const r of records.values()) {
        if (!r.inUse) flags.deleted++;
        for (const a of r.attributes) {
          if (a.type !== ATTR.DATA || a.resident) continue;
          if (a.flags & 0xff) flags.compressed++;
          if (a.flags & 0x8000) flags.sparse++;
          assert.equal(a.nonResident!.runlistError, null, `record ${r.recordNumber}`);
        }
      }
    }
    assert.ok(flags.compressed > 0 && flags.sparse > 0 && flags.deleted > 0, JSON.stringify(flags));
  },
);

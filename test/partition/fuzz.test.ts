// Fuzz: random damage to the first 34 sectors (and the backup copy) of a GPT disk and to the MBR and EBR sectors
// of an MBR disk. Whatever the damage: a result whose partitions lie inside the disk, or a WinrescueError; never
// another exception, never an unbounded number of reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MemoryDevice } from '../../src/disk/memory-device.js';
import { OverlayDevice } from '../../src/disk/overlay-device.js';
import { CountingDevice } from '../../src/disk/counting-device.js';
import { WinrescueError } from '../../src/errors.js';
import { detectFilesystem, readPartitions } from '../../src/partition/index.js';
import { crc32 } from '../../src/util/crc.js';
import { setU32, setU64, u32, u64 } from '../../src/util/bytes.js';
import { tempDir } from '../helpers/tools.js';
import { sfdiskImage, sfdiskJson } from './helpers.js';

const tmp = tempDir('winrescue-partition-fuzz-');
after(() => tmp.cleanup());

const SECTOR = 512;
const RUNS = 600;
/** Far more than any sane table needs (MBR + 256 EBRs, or two GPT copies): a hang would blow through it. */
const MAX_READS = 600;
let gptImage: Uint8Array;
let mbrImage: Uint8Array;
let ebrSectors: number[];

before(() => {
  const gpt = sfdiskImage(
    tmp.dir,
    'gpt.img',
    4,
    'label: gpt\nsize=1M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI"\nsize=512K, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE\ntype=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Windows"\n',
  );
  gptImage = new Uint8Array(readFileSync(gpt));
  const mbr = sfdiskImage(
    tmp.dir,
    'mbr.img',
    4,
    'label: dos\n1: start=64, size=512, type=7, bootable\n2: start=640, type=5\n5: start=704, size=256, type=7\n6: start=1024, size=256, type=b\n7: start=1344, type=83\n',
  );
  mbrImage = new Uint8Array(readFileSync(mbr));
  const sf = sfdiskJson(mbr);
  assert.equal(sf.partitions.length, 5);
  // The three EBRs, found by following the chain as sfdisk wrote it.
  ebrSectors = [];
  let lba = 640;
  for (let i = 0; i < 3; i++) {
    ebrSectors.push(lba);
    const link = mbrImage.subarray(lba * SECTOR + 446 + 16, lba * SECTOR + 446 + 32);
    lba = 640 + u32(link, 8);
  }
});

const interesting = fc.oneof(
  fc.constantFrom(0, 1, 2, 33, 34, 0x7f, 0x80, 0xff, 0xee, 0x05, 0x0f, 0x85, 0xffff, 0xffffffff),
  fc.nat({ max: 0xffffffff }),
  fc.nat({ max: 10000 }),
);
const mutation = (offsets: fc.Arbitrary<number>) =>
  fc.record({
    kind: fc.constantFrom('byte', 'u32', 'u64', 'zero'),
    at: offsets,
    value: interesting,
  });

function apply(bytes: Uint8Array, m: { kind: string; at: number; value: number }): void {
  const at = Math.min(m.at, bytes.length - 8);
  if (m.kind === 'byte') bytes[at] = m.value & 0xff;
  else if (m.kind === 'u32') setU32(bytes, at, m.value);
  else if (m.kind === 'u64') setU64(bytes, at, BigInt(m.value) * BigInt(1 + (m.value % 7)));
  else bytes.fill(0, at - (at % SECTOR), at - (at % SECTOR) + SECTOR);
}

/** Makes the CRCs of the header at `lba` match again, so the damage reaches the parser behind the CRC checks. */
function fixCrcs(bytes: Uint8Array, lba: number): void {
  const h = bytes.subarray(lba * SECTOR, lba * SECTOR + SECTOR);
  const size = u32(h, 12);
  if (size < 92 || size > SECTOR) return;
  const arrayAt = u64(h, 72) * BigInt(SECTOR);
  const arrayLen = u32(h, 80) * u32(h, 84);
  if (arrayAt + BigInt(arrayLen) <= BigInt(bytes.length) && arrayLen <= 1 << 20) {
    setU32(h, 88, crc32(bytes.subarray(Number(arrayAt), Number(arrayAt) + arrayLen)));
  }
  setU32(h, 16, 0);
  setU32(h, 16, crc32(h.subarray(0, size)));
}

/** The disk with `regions` replaced by their edited copies, in an overlay over an untouched base. */
async function damagedDevice(base: Uint8Array, regions: [number, number][], edit: (b: Uint8Array) => void) {
  const scratch = new Uint8Array(base.length);
  for (const [from, to] of regions) scratch.set(base.subarray(from, to), from);
  edit(scratch);
  const overlay = new OverlayDevice(new MemoryDevice(base, { readOnly: true }));
  for (const [from, to] of regions) await overlay.write(from, scratch.subarray(from, to));
  return new CountingDevice(overlay);
}

async function check(dev: CountingDevice, strict: boolean): Promise<string> {
  try {
    const t = await readPartitions(dev, { strict });
    const seen = new Set<number>();
    for (const p of t.partitions) {
      assert.ok(Number.isSafeInteger(p.start) && p.start >= 0);
      assert.ok(Number.isSafeInteger(p.size) && p.size >= 0);
      assert.ok(p.start + p.size <= dev.size, `partition ${p.index} inside the disk`);
      assert.equal(p.device.size, p.size);
      assert.ok(!seen.has(p.index), 'indices are unique');
      seen.add(p.index);
      try {
        await detectFilesystem(p);
      } catch (e) {
        assert.ok(e instanceof WinrescueError, String(e));
      }
    }
    assert.equal(t.warnings.length, t.problems.length);
    return t.scheme;
  } catch (e) {
    if (!(e instanceof WinrescueError)) throw e;
    return e.code;
  } finally {
    assert.ok(dev.reads <= MAX_READS, `${dev.reads} reads`);
  }
}

test(`GPT: ${RUNS} random mutations of the first 34 sectors and the backup copy, CRCs sometimes fixed`, async () => {
  const outcomes = new Map<string, number>();
  const size = gptImage.length;
  const primary: [number, number] = [0, 34 * SECTOR];
  const backup: [number, number] = [size - 33 * SECTOR, size];
  const offsets = fc.oneof(
    fc.integer({ min: 0, max: 34 * SECTOR - 1 }),
    fc.integer({ min: SECTOR, max: SECTOR + 95 }), // the primary header fields
    fc.integer({ min: 2 * SECTOR, max: 2 * SECTOR + 3 * 128 }), // the used entries
    fc.integer({ min: size - 33 * SECTOR, max: size - 1 }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(mutation(offsets), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      fc.boolean(),
      async (mutations, fix, strict) => {
        const dev = await damagedDevice(gptImage, [primary, backup], (b) => {
          for (const m of mutations) apply(b, m);
          if (fix) {
            fixCrcs(b, 1);
            fixCrcs(b, size / SECTOR - 1);
          }
        });
        const outcome = await check(dev, strict);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      },
    ),
    { numRuns: RUNS },
  );
  // The fuzz must reach both the happy path and the refusals, or it is testing nothing.
  if (process.env.FUZZ_STATS) console.log(outcomes);
  assert.ok((outcomes.get('gpt') ?? 0) > 0, JSON.stringify([...outcomes]));
  assert.ok((outcomes.get('partition.badGpt') ?? 0) > 0, JSON.stringify([...outcomes]));
});

test(`MBR: ${RUNS} random mutations of the MBR and the three EBRs`, async () => {
  const outcomes = new Map<string, number>();
  const sectors = [0, ...ebrSectors];
  const regions = sectors.map((s): [number, number] => [s * SECTOR, s * SECTOR + SECTOR]);
  const offsets = fc
    .tuple(
      fc.constantFrom(...sectors),
      fc.oneof(fc.integer({ min: 446, max: 511 }), fc.integer({ min: 0, max: 511 })),
    )
    .map(([s, o]) => s * SECTOR + o);
  await fc.assert(
    fc.asyncProperty(
      fc.array(mutation(offsets), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      async (mutations, strict) => {
        const dev = await damagedDevice(mbrImage, regions, (b) => {
          for (const m of mutations) apply(b, m);
        });
        const outcome = await check(dev, strict);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      },
    ),
    { numRuns: RUNS },
  );
  if (process.env.FUZZ_STATS) console.log(outcomes);
  assert.ok((outcomes.get('mbr') ?? 0) > 0, JSON.stringify([...outcomes]));
  assert.ok(
    [...outcomes.keys()].some((k) => k.startsWith('partition.')),
    JSON.stringify([...outcomes]),
  );
});

// Element value codecs: encode → decode round trips against a model, bcdedit's stored shapes (1-byte booleans,
// 8-byte integers, lowercase braced GUID strings, double-NUL MULTI_SZ), a fuzz of the decoders (only
// WinrescueError, never another exception), and bad stores (a non-BCD hive, a missing {default}).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isWinrescueError } from '../../src/errors.js';
import { Hive } from '../../src/registry/hive.js';
import { createHive } from '../../src/registry/write/index.js';
import { HiveEditor } from '../../src/registry/write/editor.js';
import { REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_SZ } from '../../src/registry/value-data.js';
import {
  decodeDevice,
  decodeElementValue,
  elementCode,
  elementName,
  encodeBootDevice,
  encodeElementValue,
  encodePartitionDevice,
  readBcdStore,
  elementKeyPath,
} from '../../src/bcd/index.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { readFileSync } from 'node:fs';

const guidArb = fc.uuid().map((u) => `{${u}}`);

test('booleans are stored as exactly one byte, integers as 8 bytes LE (bcdedit shapes)', () => {
  assert.deepEqual(encodeElementValue({ format: 'boolean', value: true }), {
    type: REG_BINARY,
    data: Uint8Array.of(1),
  });
  const baud = encodeElementValue({ format: 'integer', value: 115200n });
  assert.equal(baud.type, REG_BINARY);
  assert.deepEqual([...baud.data], [0x00, 0xc2, 0x01, 0, 0, 0, 0, 0]);
  const list = encodeElementValue({
    format: 'objectList',
    value: ['{9DEA862C-5CDD-4E70-ACC1-F32B344D4795}'],
  });
  assert.equal(list.type, REG_MULTI_SZ);
  assert.equal(Buffer.from(list.data).toString('utf16le'), '{9dea862c-5cdd-4e70-acc1-f32b344d4795}\0\0');
  // A 2-byte "boolean" is not what bootmgr accepts: kept raw with the reason.
  const odd = decodeElementValue(0x16000020, REG_BINARY, Uint8Array.of(1, 0));
  assert.equal(odd.format, 'raw');
  // Integers shorter than 8 bytes are accepted as ReactOS does.
  assert.deepEqual(decodeElementValue(0x25000004, REG_BINARY, Uint8Array.of(5)), {
    format: 'integer',
    value: 5n,
  });
  // Wrong registry type: raw.
  assert.equal(decodeElementValue(0x25000004, REG_DWORD, new Uint8Array(4)).format, 'raw');
});

test('element names depend on the object kind; codes from names refuse the wrong kind', () => {
  assert.equal(elementName(0x23000003, 'bootManager'), 'default');
  assert.equal(elementName(0x23000003, 'osLoader'), 'resumeobject');
  assert.equal(elementName(0x16000020, 'osLoader'), 'bootems');
  assert.equal(elementCode('ems', 'osLoader'), 0x260000b0);
  assert.equal(elementCode('displaybootmenu', 'bootManager'), 0x26000020);
  assert.equal(elementCode('emsport', null), 0x15000022);
  assert.equal(elementCode('custom:46000010', 'osLoader'), 0x46000010);
  assert.throws(
    () => elementCode('displaybootmenu', 'osLoader'),
    (e) => isWinrescueError(e) && e.code === 'bcd.notFound',
  );
  assert.equal(elementKeyPath('{abc}', 0x16000020), 'Objects\\{abc}\\Elements\\16000020');
});

test('round trip: every format encodes and decodes back to the model value', () => {
  const valueArb = fc.oneof(
    fc.record({
      code: fc.constant(0x16000020),
      v: fc.boolean().map((value) => ({ format: 'boolean' as const, value })),
    }),
    fc.record({
      code: fc.constant(0x25000004),
      v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ format: 'integer' as const, value })),
    }),
    fc.record({
      code: fc.constant(0x12000004),
      v: fc
        .string({ unit: 'grapheme' })
        .filter((s) => !s.includes('\0'))
        .map((value) => ({ format: 'string' as const, value })),
    }),
    fc.record({
      code: fc.constant(0x23000003),
      v: guidArb.map((value) => ({ format: 'object' as const, value })),
    }),
    fc.record({
      code: fc.constant(0x24000001),
      v: fc.array(guidArb, { maxLength: 6 }).map((value) => ({ format: 'objectList' as const, value })),
    }),
    fc.record({
      code: fc.constant(0x17000077),
      v: fc
        .array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 6 })
        .map((value) => ({ format: 'integerList' as const, value })),
    }),
  );
  fc.assert(
    fc.property(valueArb, ({ code, v }) => {
      const { type, data } = encodeElementValue(v);
      assert.deepEqual(decodeElementValue(code, type, data), v);
    }),
    { numRuns: 300 },
  );
});

test('partition and boot devices encode as 88 bytes and decode back', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.integer({ min: 0, max: 2 ** 50 }),
      guidArb,
      guidArb,
      (sig, offset, g1, g2) => {
        const mbr = encodePartitionDevice({ style: 'mbr', diskSignature: sig, offset });
        assert.equal(mbr.length, 88);
        assert.deepEqual(decodeDevice(mbr), {
          kind: 'partition',
          style: 'mbr',
          diskSignature: sig,
          offset,
          parent: null,
        });
        const gpt = encodePartitionDevice({ style: 'gpt', diskGuid: g1, partitionGuid: g2 });
        assert.deepEqual(decodeDevice(gpt), {
          kind: 'partition',
          style: 'gpt',
          diskGuid: g1,
          partitionGuid: g2,
          parent: null,
        });
      },
    ),
    { numRuns: 200 },
  );
  assert.deepEqual(decodeDevice(encodeBootDevice()), { kind: 'boot', parent: null });
});

test('fuzz: decoding random element bytes never throws anything but WinrescueError', () => {
  const codes = [
    0x11000001, 0x21000001, 0x16000020, 0x25000004, 0x12000004, 0x23000003, 0x24000001, 0x17000077,
    0x1f000001, 0x46000010,
  ];
  const types = [REG_SZ, REG_BINARY, REG_MULTI_SZ, REG_DWORD, 0, 11];
  // Device-shaped bytes: a real header with random body, so the deeper paths (ramdisk nesting, locate) are hit.
  const deviceish = fc
    .tuple(
      fc.constantFrom(0, 5, 6, 8, 3),
      fc.integer({ min: 0, max: 400 }),
      fc.uint8Array({ maxLength: 300 }),
    )
    .map(([t, size, body]) => {
      const b = new Uint8Array(16 + 16 + body.length);
      const dv = new DataView(b.buffer);
      dv.setUint32(16, t, true);
      dv.setUint32(24, size, true);
      b.set(body, 32);
      if (body.length > 4) dv.setUint32(32, 3, true);
      return b;
    });
  let n = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...codes),
      fc.constantFrom(...types),
      fc.oneof(fc.uint8Array({ maxLength: 200 }), deviceish),
      (code, type, data) => {
        n++;
        try {
          decodeElementValue(code, type, data);
          decodeDevice(data);
        } catch (e) {
          assert.ok(isWinrescueError(e), `only WinrescueError, got ${String(e)}`);
        }
      },
    ),
    { numRuns: 600 },
  );
  assert.ok(n >= 300);
});

function storeWith(
  objects: Record<string, Record<string, [number, Uint8Array]>>,
  types: Record<string, number>,
): Hive {
  const ed = HiveEditor.open(createHive({ minor: 3, rootName: 'NewStoreRoot' }));
  ed.createKey('Objects');
  for (const [id, elements] of Object.entries(objects)) {
    const t = new Uint8Array(4);
    new DataView(t.buffer).setUint32(0, types[id]!, true);
    ed.createKey(`Objects\\${id}\\Description`);
    ed.setValue(`Objects\\${id}\\Description`, 'Type', REG_DWORD, t);
    ed.createKey(`Objects\\${id}\\Elements`);
    for (const [code, [type, data]] of Object.entries(elements)) {
      ed.createKey(`Objects\\${id}\\Elements\\${code}`);
      ed.setValue(`Objects\\${id}\\Elements\\${code}`, 'Element', type, data);
    }
  }
  return new Hive(ed.save());
}

test(
  'bad stores: a non-BCD hive is bcd.badStore; a missing {default} says why',
  { skip: sharedSkip() },
  () => {
    const system = new Hive(new Uint8Array(readFileSync(testdataFile('hives/SYSTEM.xz'))));
    assert.throws(
      () => readBcdStore(system),
      (e) => isWinrescueError(e) && e.code === 'bcd.badStore' && /no Objects key/.test(e.message),
    );
    const bootmgr = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}';
    const missing = '{11111111-2222-3333-4444-555555555555}';
    const s = readBcdStore(
      storeWith(
        {
          [bootmgr]: { '23000003': [REG_SZ, encodeElementValue({ format: 'object', value: missing }).data] },
        },
        { [bootmgr]: 0x10100002 },
      ),
    );
    assert.equal(s.defaultId(), missing);
    assert.equal(s.find('{default}'), undefined);
    assert.throws(
      () => s.get('{default}'),
      (e) => isWinrescueError(e) && e.code === 'bcd.notFound' && e.message.includes(missing),
    );
    assert.equal(s.get('{BOOTMGR}').id, bootmgr);
    // A store without {bootmgr} default: clear message too.
    const empty = readBcdStore(storeWith({}, {}));
    assert.throws(
      () => empty.get('{default}'),
      (e) => isWinrescueError(e) && /no default element/.test(e.message),
    );
  },
);

test('odd stores are read, not refused: problems listed, odd values kept raw with their bytes', () => {
  const loader = '{22222222-2222-4222-a222-222222222222}';
  const ed = HiveEditor.open(createHive({ minor: 3, rootName: 'NewStoreRoot' }));
  ed.createKey(`Objects\\${loader}\\Description`);
  ed.createKey(`Objects\\${loader}\\Elements\\260000b0`);
  ed.setValue(`Objects\\${loader}\\Elements\\260000b0`, 'Element', REG_DWORD, Uint8Array.of(1, 0, 0, 0));
  ed.createKey(`Objects\\${loader}\\Elements\\notacode`);
  ed.createKey('Objects\\not-a-guid\\Elements');
  const s = readBcdStore(new Hive(ed.save()));
  assert.equal(s.objects.length, 2);
  assert.ok(s.problems.some((p) => p.includes('has no Description\\Type')));
  assert.ok(s.problems.some((p) => p.includes('notacode')));
  assert.ok(s.problems.some((p) => p.includes('not-a-guid')));
  const o = s.get(loader);
  assert.equal(o.type.kind, 'unknown');
  const e = o.elements[0]!;
  // Without a type the loader's name table is unknown: bcdedit's custom: label, value raw with the reason.
  assert.equal(e.label, 'custom:260000b0');
  assert.equal(e.value.format, 'raw');
  assert.deepEqual([...e.raw], [1, 0, 0, 0]);
  assert.equal(e.regType, REG_DWORD);
});

// `bcd` on the Windows-made stores of ../shared/testdata, judged by hivexregedit: every Objects\{id}\Elements\<code>
// value hivex exports is listed by us, and its value decoded here by hand (1-byte booleans, 8-byte LE integers,
// UTF-16 strings and GUIDs, MULTI_SZ lists) equals ours. Names, counts and device fields are held in this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { hivexExport } from '../registry/reg-parse.js';
import { bcdShow, type BcdReport } from '../../src/api/bcd.js';

interface HivexElement {
  object: string;
  code: string;
  type: number;
  bytes: Buffer;
}

/** Objects and their Element values from hivexregedit's export. */
function hivexElements(file: string): { objects: Map<string, number>; elements: HivexElement[] } {
  const objects = new Map<string, number>();
  const elements: HivexElement[] = [];
  let path = '';
  for (const line of hivexExport(file).split('\n')) {
    if (line.startsWith('[')) {
      path = line.slice(1, -1);
      continue;
    }
    let m = /^\\Objects\\(\{[^}]+\})\\Description$/.exec(path);
    const t = /^"Type"=dword:([0-9a-f]{8})$/.exec(line);
    if (m && t) objects.set(m[1]!, parseInt(t[1]!, 16));
    m = /^\\Objects\\(\{[^}]+\})\\Elements\\([0-9a-fA-F]{8})$/.exec(path);
    const v = /^"Element"=hex\(([0-9a-f]+)\):(.*)$/.exec(line);
    if (m && v) {
      const hex = v[2]!.replace(/,/g, '');
      elements.push({
        object: m[1]!,
        code: m[2]!.toLowerCase(),
        type: parseInt(v[1]!, 16),
        bytes: Buffer.from(hex, 'hex'),
      });
    }
  }
  return { objects, elements };
}

/** The decoding done by hand: what the element's format says the bytes mean. */
function handDecode(code: string, type: number, b: Buffer): unknown {
  const format = parseInt(code[1]!, 16);
  const str = () => b.toString('utf16le').replace(/\0.*$/s, '');
  if (format === 6 && type === 3 && b.length === 1) return b[0] !== 0;
  if (format === 5 && type === 3 && b.length === 8) return Number(b.readBigUInt64LE(0));
  if (format === 2 && type === 1) return str();
  if (format === 3 && type === 1) return str().toLowerCase();
  if (format === 4 && type === 7)
    return b
      .toString('utf16le')
      .split('\0')
      .filter((x) => x !== '')
      .map((x) => x.toLowerCase());
  if (format === 7 && type === 3)
    return Array.from({ length: b.length / 8 }, (_, i) => Number(b.readBigUInt64LE(i * 8)));
  return undefined; // devices: checked field by field below
}

function check(file: string, r: BcdReport, expectedObjects: number): void {
  const oracle = hivexElements(file);
  assert.equal(oracle.objects.size, expectedObjects);
  assert.equal(r.objects.length, expectedObjects);
  for (const [id, type] of oracle.objects) {
    const o = r.objects.find((x) => x.id === id);
    assert.ok(o, `object ${id} listed`);
    assert.equal(o.type, '0x' + type.toString(16).padStart(8, '0'));
  }
  let n = 0;
  for (const e of oracle.elements) {
    const o = r.objects.find((x) => x.id === e.object)!;
    const ours = o.elements.find((x) => x.code === e.code);
    assert.ok(ours, `${e.object} element ${e.code} listed`);
    assert.equal(ours.raw, e.bytes.toString('hex'), `${e.object} ${e.code} raw bytes`);
    assert.equal(ours.regType, e.type);
    const want = handDecode(e.code, e.type, e.bytes);
    if (want !== undefined) assert.deepEqual(ours.value, want, `${e.object} ${e.code} value`);
    n++;
  }
  const ourCount = r.objects.reduce((s, o) => s + o.elements.length, 0);
  assert.equal(ourCount, n, 'no element beyond those hivex sees');
  assert.deepEqual(r.problems, []);
}

const byAlias = (r: BcdReport, alias: string) => r.objects.find((o) => o.alias === alias || o.id === alias)!;
const el = (r: BcdReport, obj: string, name: string) => byAlias(r, obj).elements.find((e) => e.name === name);

test(
  'BCD-bios (BIOS store): every object and element, names and values as hivex reads them',
  { skip: sharedSkip() },
  async () => {
    const file = testdataFile('hives/BCD-bios.xz');
    const r = await bcdShow(file);
    check(file, r, 11);
    const loader = '{1b67bffd-e290-11eb-8ffa-f459a0d9b879}';
    assert.equal(r.default, loader);
    assert.equal(byAlias(r, '{bootmgr}').typeName, 'Windows Boot Manager');
    assert.equal(byAlias(r, loader).typeName, 'Windows Boot Loader');
    assert.equal(el(r, '{bootmgr}', 'default')!.value, loader);
    assert.equal(el(r, '{bootmgr}', 'timeout')!.value, 30);
    assert.deepEqual(el(r, '{bootmgr}', 'displayorder')!.value, [loader]);
    // 23000003 on a loader is resumeobject, not default.
    assert.equal(el(r, loader, 'resumeobject')!.value, '{1b67bffc-e290-11eb-8ffa-f459a0d9b879}');
    assert.equal(el(r, loader, 'default'), undefined);
    assert.equal(el(r, loader, 'osdevice')!.text[0], 'boot');
    assert.equal(el(r, loader, 'systemroot')!.value, '\\windows');
    assert.equal(el(r, loader, 'nx')!.text[0], 'OptIn');
    assert.equal(el(r, '{dbgsettings}', 'debugtype')!.text[0], 'Local');
    assert.equal(el(r, '{dbgsettings}', 'debugtype')!.value, 4);
    assert.equal(el(r, '{emssettings}', 'bootems')!.value, false);
    // {memdiag} device, by hand from the hex: offset 00 00 10 00 .. = 0x100000, style 1 (MBR), signature bb 6b ba dd.
    const dev = el(r, '{memdiag}', 'device')!;
    assert.equal(dev.raw.slice(0x20 * 2, 0x28 * 2), '0000100000000000');
    assert.equal(dev.raw.slice(0x38 * 2, 0x3c * 2), 'bb6bbadd');
    assert.deepEqual(dev.value, {
      kind: 'partition',
      style: 'mbr',
      diskSignature: 0xddba6bbb,
      offset: 1048576,
      parent: null,
    });
    assert.equal(dev.text[0], 'partition=<mbr disk 0xddba6bbb, offset 1048576>');
    assert.deepEqual(el(r, '{hypervisorsettings}', 'hypervisorbaudrate')!.value, 115200);
  },
);

test(
  'BCD-uefi-win10: 17 objects incl. WinRE ramdisk and firmware applications',
  { skip: sharedSkip() },
  async () => {
    const file = testdataFile('hives/BCD-uefi-win10.xz');
    const r = await bcdShow(file);
    check(file, r, 17);
    assert.equal(r.objects[0]!.alias, '{fwbootmgr}');
    assert.equal(r.objects[1]!.alias, '{bootmgr}');
    // {bootmgr} device by hand: partition GUID bytes 55 39 be 36 bf 63 68 40 a6 ab 00 19 5c ca 3a 22 (mixed endian),
    // style 0 (GPT), disk GUID a9 94 23 0b 5e 09 7d 48 8d 48 71 9e cd 4d 78 ca.
    const dev = el(r, '{bootmgr}', 'device')!;
    assert.equal(dev.raw.slice(0x20 * 2, 0x30 * 2), '5539be36bf636840a6ab00195cca3a22');
    assert.deepEqual(dev.value, {
      kind: 'partition',
      style: 'gpt',
      partitionGuid: '{36be3955-63bf-4068-a6ab-00195cca3a22}',
      diskGuid: '{0b2394a9-095e-487d-8d48-719ecd4d78ca}',
      parent: null,
    });
    const winre = '{733b62e6-f608-11eb-825c-c112f60133ab}';
    assert.equal(el(r, winre, 'description')!.value, 'Windows Recovery Environment');
    assert.equal(el(r, winre, 'winpe')!.value, true);
    const ramdisk = el(r, winre, 'osdevice')!;
    assert.equal(
      ramdisk.text[0],
      'ramdisk=[<gpt disk {0b2394a9-095e-487d-8d48-719ecd4d78ca}, partition {6cdfcd69-de75-4490-8f99-5a84bf264917}>]\\Recovery\\WindowsRE\\Winre.wim,{733b62e7-f608-11eb-825c-c112f60133ab}',
    );
    // An element code we have no name for is listed as bcdedit does, value decoded by its format.
    const custom = byAlias(r, winre).elements.find((e) => e.code === '46000010')!;
    assert.equal(custom.name, 'custom:46000010');
    assert.equal(custom.value, true);
    assert.equal(
      el(r, '{733b62e7-f608-11eb-825c-c112f60133ab}', 'ramdisksdipath')!.value,
      '\\Recovery\\WindowsRE\\boot.sdi',
    );
    assert.equal(byAlias(r, '{733b62de-f608-11eb-825c-c112f60133ab}').typeName, 'Firmware Application');
    assert.equal(byAlias(r, '{733b62e4-f608-11eb-825c-c112f60133ab}').typeName, 'Resume from Hibernate');
    assert.equal(el(r, '{733b62e4-f608-11eb-825c-c112f60133ab}', 'filepath')!.value, '\\hiberfil.sys');
    assert.deepEqual(el(r, '{bootmgr}', 'toolsdisplayorder')!.text, ['{memdiag}']);
    assert.deepEqual(
      el(r, '{733b62e5-f608-11eb-825c-c112f60133ab}', 'allowedinmemorysettings')!.value,
      [0x15000075],
    );
  },
);

test('BCD-efi-small: 3 objects, locate devices', { skip: sharedSkip() }, async () => {
  const file = testdataFile('hives/BCD-efi-small.xz');
  const r = await bcdShow(file);
  check(file, r, 3);
  const loader = '{d65367c7-3fb7-11ec-8288-eab76d76405a}';
  assert.equal(r.default, loader);
  // Locate device by hand: type 08 at +0x10, locate type 0, element 02 00 00 12 = 0x12000002 (path).
  const dev = el(r, loader, 'device')!;
  assert.equal(dev.raw.slice(0x10 * 2, 0x14 * 2), '08000000');
  assert.equal(dev.text[0], 'locate=custom:12000002');
  assert.equal(el(r, loader, 'osdevice')!.text[0], 'locate=custom:22000002');
  assert.equal(el(r, '{fwbootmgr}', 'timeout')!.value, 0);
  assert.equal(el(r, loader, 'recoveryenabled')!.value, true);
  assert.equal(el(r, loader, 'displaymessageoverride')!.text[0], 'Recovery');
});

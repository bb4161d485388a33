// stat and $Secure against sleuthkit's istat: names of every hard link with their parents, the security id,
// and the owner SID istat resolves through $Secure; plus the facts `info` reports, against fsstat/ntfsinfo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { run } from '../../helpers/tools.js';
import { buildVolume, DRIVER, DRIVER_TWIN, HARD_LINK_TARGET, HARD_LINKS } from './volumes.js';
import { openImage, tskOffset } from './oracle.js';

interface IstatFacts {
  securityId: number;
  owner: string | null;
  names: { name: string; parent: number }[];
  links: number;
}

function istat(image: string, record: number, offsetSectors = 0): IstatFacts {
  const out = run('istat', [...tskOffset(offsetSectors), image, String(record)]).toString('utf8');
  const sec = /Security ID: (\d+)(?:\s+\((S-[\d-]+)\))?/.exec(out);
  const names = [...out.matchAll(/\nName: (.*)\nParent MFT Entry: (\d+)/g)].map((m) => ({
    name: m[1]!,
    parent: Number(m[2]),
  }));
  return {
    securityId: Number(sec?.[1] ?? -1),
    owner: sec?.[2] ?? null,
    names,
    links: Number(/Links: (\d+)/.exec(out)![1]),
  };
}

test('stat of a hard-linked driver lists both names (System32 and its WinSxS twin) as istat does', async () => {
  const image = buildVolume({ sizeMiB: 48, bigDir: 2100 });
  const { vol, close } = await openImage(image);
  try {
    const ref = await vol.lookup(DRIVER.toUpperCase());
    const twin = await vol.lookup(DRIVER_TWIN);
    assert.equal(ref.record, twin.record);
    const st = await vol.stat(ref.record);
    const facts = istat(image, ref.record);
    assert.equal(st.record, ref.record);
    assert.equal(st.linkCount, facts.links);
    assert.equal(st.linkCount, 2);
    assert.deepEqual(
      st.names.map((n) => ({ name: n.name, parent: n.parent })).sort((a, b) => a.parent - b.parent),
      facts.names.sort((a, b) => a.parent - b.parent),
    );
    assert.deepEqual(st.names.map((n) => n.path).sort(), [DRIVER, DRIVER_TWIN].sort());
    // wimlib writes 48-byte (NTFS 1.2 sized) $STANDARD_INFORMATION without a security id: we say null, istat 0.
    assert.equal(st.securityId ?? 0, facts.securityId);
    assert.equal(st.type, 'file');
    assert.equal(st.size, 40000);
    assert.deepEqual(
      st.streams.map((s) => s.name),
      [''],
    );
  } finally {
    await close();
  }
});

test('a file with 81 names in extension records (attribute list): stat lists every name istat lists', async () => {
  const image = buildVolume({ sizeMiB: 48, bigDir: 2100 });
  const { vol, close } = await openImage(image);
  try {
    const ref = await vol.lookup(HARD_LINK_TARGET);
    const st = await vol.stat(ref.record);
    const facts = istat(image, ref.record);
    assert.ok(st.extensionRecords.length >= 1, 'names spill into extension records');
    assert.equal(st.names.length, HARD_LINKS + 1);
    assert.equal(st.linkCount, facts.links);
    assert.deepEqual(st.names.map((n) => n.name).sort(), facts.names.map((n) => n.name).sort());
    assert.ok(st.names.every((n) => n.path?.startsWith('/links/')));
    const islands = await vol.stat((await vol.lookup('/islands.bin')).record);
    assert.ok(
      islands.attributes.some((a) => a.type === 0x80 && a.records.length >= 2),
      'the $DATA is split over records',
    );
  } finally {
    await close();
  }
});

test(
  'security ids and owners from $Secure match istat on a Windows-made volume',
  { skip: sharedSkip() },
  async () => {
    const image = testdataFile('ntfs/windows-ntfs-compressed-largedir.bin.gz');
    const { vol, close } = await openImage(image);
    try {
      let checked = 0;
      for (const path of [
        '/File.txt',
        '/Large.txt',
        '/Random.bin',
        '/Directory',
        '/Directory/File 1.txt',
        '/$RECYCLE.BIN',
        '/System Volume Information',
      ]) {
        const ref = await vol.lookup(path);
        const st = await vol.stat(ref.record);
        const facts = istat(image, ref.record);
        assert.equal(st.securityId, facts.securityId, path);
        assert.deepEqual(
          st.names.map((n) => n.name),
          facts.names.map((n) => n.name),
        );
        const sd = await vol.securityDescriptor(st.securityId!);
        assert.ok(sd, `descriptor ${st.securityId}`);
        if (facts.owner) {
          assert.equal(sd.owner, facts.owner, path);
          checked++;
        }
      }
      assert.ok(checked >= 3, `owners compared: ${checked}`);
      assert.equal(await vol.securityDescriptor(0x7ffffff0), null);
      const large = await vol.stat((await vol.lookup('/large.TXT')).record);
      assert.ok(large.streams[0]!.compressed);
      assert.ok(large.fileAttributeNames.includes('compressed'));
    } finally {
      await close();
    }
  },
);

test(
  'info: geometry, serial, version, label and log state agree with fsstat and ntfsinfo',
  { skip: sharedSkip() },
  async () => {
    for (const [file, offset] of [
      ['ntfs/windows-ntfs-compressed-largedir.bin.gz', 0],
      ['ntfs/windows-mbr-ntfs-index.raw.gz', 128],
      ['ntfs/windows-volume.raw.gz', 0],
    ] as const) {
      const image = testdataFile(file);
      const { vol, close } = await openImage(image, offset);
      try {
        const info = await vol.info();
        const fs = run('fsstat', [...tskOffset(offset), image]).toString();
        assert.equal(info.serial, /Volume Serial Number: (\w+)/.exec(fs)![1]);
        assert.equal(info.clusterSize, Number(/Cluster Size: (\d+)/.exec(fs)![1]));
        assert.equal(info.mftRecordSize, Number(/Size of MFT Entries: (\d+)/.exec(fs)![1]));
        assert.equal(info.indexRecordSize, Number(/Size of Index Records: (\d+)/.exec(fs)![1]));
        const label = /Volume Name: (.*)/.exec(fs)?.[1] ?? '';
        assert.equal(info.label, label);
        // README: the $LogFile of each Windows-made volume is clean or wiped.
        assert.ok(
          info.logfile.state === 'clean' || info.logfile.state === 'empty',
          `${file}: ${info.logfile.state}`,
        );
        assert.equal(info.hibernation.hibernated, false);
        assert.equal(info.bitlocker, false);
        assert.ok(info.version === '3.1', info.version ?? 'null');
      } finally {
        await close();
      }
    }
  },
);

test('info on a generated volume: label, version and $LogFile state as ntfsinfo sees them', async () => {
  const image = buildVolume({ sizeMiB: 48, bigDir: 2100 });
  const { vol, close } = await openImage(image);
  try {
    const info = await vol.info();
    const ni = run('ntfsinfo', ['-m', image]).toString();
    assert.equal(info.label, /Volume Name: (.*)/.exec(ni)![1]!.trim());
    assert.equal(info.version, /Volume Version: ([\d.]+)/.exec(ni)![1]);
    assert.equal(info.serial, /Volume Serial Number: (\w+)/.exec(run('fsstat', [image]).toString())![1]);
    assert.equal(info.logfile.state, 'empty', 'mkntfs leaves an empty (all 0xFF) log');
    assert.equal(info.dirty, false);
  } finally {
    await close();
  }
});

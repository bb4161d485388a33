// New files made "like" another (writeFile's `like`, fileLike): the repair of a broken driver writes its
// replacement as a new file with the original's attributes and security. Judged by sleuthkit (`istat` flags and
// security id, `icat N-80` for a stored $SECURITY_DESCRIPTOR, `icat` content), ntfs-3g (`ntfssecaudit` reading
// the descriptor as Windows would resolve it, `ntfscat` by path, `ntfsresize -i -f` cluster accounting) and our
// check, on the factory's wimlib-made Windows volume (security id 0 + per-file descriptors) and on the
// Windows-made MBR volume from ../shared/testdata ($Secure ids >= 0x100).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FILE_ATTRIBUTE } from '../../../src/fs/ntfs/attributes/standard-information.js';
import { salvageData, salvageRecord } from '../../../src/fs/ntfs/salvage.js';
import type { FileLike } from '../../../src/fs/ntfs/write/index.js';
import { buildDisk, extractWindowsVolume, inject } from '../../fixtures/index.js';
import { sharedSkip, testdataFile } from '../../helpers/testdata.js';
import { run, runStatus, tempDir } from '../../helpers/tools.js';
import { buildVolume, seeded } from './volumes.js';
import {
  assertChecksClean,
  assertNtfsresizeClean,
  copyImage,
  imageSha,
  ntfscat,
  withWriter,
} from './write-oracle.js';

const DRIVER = '/Windows/System32/drivers/disk.sys';
const skip = sharedSkip();
let t: { dir: string; cleanup: () => void };
let synthetic: string;

before(async () => {
  t = tempDir('winrescue-ntfs-like-');
  synthetic = join(t.dir, 'synthetic.img');
  extractWindowsVolume(await buildDisk({ gen: 2, flavour: 'synthetic' }), synthetic);
});
after(() => t?.cleanup());

let copies = 0;
/** A sparse copy (the factory volume is 256 MiB, mostly holes). */
function copySparse(image: string): string {
  const out = join(t.dir, `like-${copies++}.img`);
  run('cp', ['--sparse=always', image, out]);
  return out;
}

const inode = (image: string, path: string): number =>
  Number(run('ifind', ['-n', path, image]).toString().trim());

interface IstatView {
  siFlags: string[];
  fnFlags: string[];
  securityId: number;
  attributeTypes: number[];
}

function istatView(image: string, n: number): IstatView {
  const text = run('istat', [image, String(n)]).toString();
  const flags = (section: string): string[] => {
    const m = new RegExp(`\\${section} Attribute Values:\\nFlags: ?(.*)\\n`).exec(text);
    return m && m[1] ? m[1].split(', ').sort() : [];
  };
  return {
    siFlags: flags('$STANDARD_INFORMATION'),
    fnFlags: flags('$FILE_NAME'),
    securityId: Number(/Security ID: (\d+)/.exec(text)?.[1] ?? -1),
    attributeTypes: [...text.matchAll(/^Type: \S+ \((\d+)-\d+\)/gm)].map((m) => Number(m[1])),
  };
}

/**
 * ntfs-3g's reading of the security a file ends up with (from its own attribute or from $Secure by id): the
 * descriptor's dump and hash, owner, group and the Unix mode it maps to.
 */
function securityAsNtfs3g(image: string, path: string): string[] {
  const r = runStatus('ntfssecaudit', ['-v', image, path]);
  assert.equal(r.status, 0, `ntfssecaudit ${path}: ${r.stderr}`);
  const lines = r.stdout
    .split('\n')
    .filter((l) => /^(Windows owner|Windows group|Interpreted|Computed hash)|^\s+[0-9a-f]{6}\s/.test(l))
    .map((l) => l.trim());
  assert.ok(lines.some((l) => l.startsWith('Windows owner')) && lines.length > 4, r.stdout);
  return lines;
}

const SD_ATTRIBUTE = 80;

test('wimlib volume: a torn driver replaced like its salvaged self (flags, own descriptor), NAME.old kept', async () => {
  const image = copySparse(synthetic);
  const clean = inode(synthetic, DRIVER);
  const cleanData = run('icat', [synthetic, String(clean)]);
  const cleanSd = run('icat', [synthetic, `${clean}-${SD_ATTRIBUTE}`]);
  const cleanSecurity = securityAsNtfs3g(synthetic, DRIVER);
  const inj = inject.tornRecord({ image, offset: 0 }, DRIVER);
  inj.confirm();
  const n = inj.record!;
  const replacement = seeded(70001, 99);
  const report = await withWriter(image, async (w) => {
    const s = salvageRecord(await w.volume.readMftBytes(n, 1), n, w.volume.boot.totalClusters);
    const old = await salvageData(w.volume, n);
    assert.equal(await w.fileLike(n), null, 'a torn record is not readable as a model');
    const like: FileLike = {
      // The driver had no flags; ask for more, including one a plain new file may not claim.
      fileAttributes: FILE_ATTRIBUTE.SYSTEM | FILE_ATTRIBUTE.ARCHIVE | FILE_ATTRIBUTE.COMPRESSED,
      securityDescriptor: s.securityDescriptor!,
    };
    await w.quarantine(n);
    await w.writeFile(`${DRIVER}.old`, old!.bytes, { like });
    await w.writeFile(DRIVER, replacement, { like });
    return w.lastWrite!;
  });
  assert.equal(report.created, true);
  assert.equal(report.securityDescriptorStored, true);
  assert.equal(report.securityId, 0);
  assert.ok(
    report.warnings.some((x) => /0x800/.test(x)),
    'COMPRESSED is dropped and said so',
  );
  for (const [path, content] of [
    [DRIVER, Buffer.from(replacement)],
    [`${DRIVER}.old`, cleanData],
  ] as const) {
    const m = inode(image, path);
    const v = istatView(image, m);
    assert.deepEqual(v.siFlags, ['Archive', 'System'], `${path}: $STANDARD_INFORMATION flags`);
    assert.deepEqual(v.fnFlags, ['Archive', 'System'], `${path}: $FILE_NAME mirrors them`);
    assert.equal(v.securityId, 0);
    assert.ok(v.attributeTypes.includes(SD_ATTRIBUTE), `${path}: has a $SECURITY_DESCRIPTOR`);
    assert.ok(run('icat', [image, `${m}-${SD_ATTRIBUTE}`]).equals(cleanSd), `${path}: descriptor bytes`);
    assert.deepEqual(securityAsNtfs3g(image, path), cleanSecurity, `${path}: ntfs-3g reads the same ACL`);
    assert.ok(run('icat', [image, String(m)]).equals(content), `${path}: icat`);
    assert.ok(ntfscat(image, path)?.equals(content), `${path}: ntfscat`);
  }
  await assertChecksClean(image, 'after the replacement');
  assertNtfsresizeClean(image, 'after the replacement');
});

test('wimlib volume: fileLike of an intact driver is its flags and its own descriptor', async () => {
  const other = '/Windows/System32/drivers/acpi.sys';
  const n = inode(synthetic, other);
  const like = await withWriter(copySparse(synthetic), (w) => w.fileLike(n));
  assert.ok(like);
  assert.deepEqual(istatView(synthetic, n).siFlags, [], 'istat: no flags');
  assert.equal(like.fileAttributes, 0);
  assert.equal(like.securityId, undefined, 'no $Secure id on a wimlib file');
  assert.ok(Buffer.from(like.securityDescriptor!).equals(run('icat', [synthetic, `${n}-${SD_ATTRIBUTE}`])));
});

/** The Windows-made MBR disk's NTFS volume, cut out with dd (the oracles' tools take bare volumes). */
function windowsVolume(): string {
  const out = join(t.dir, `mbr-${Math.random().toString(36).slice(2)}.img`);
  const src = testdataFile('ntfs/windows-mbr-ntfs-index.raw.gz');
  run('dd', [`if=${src}`, `of=${out}`, 'bs=512', 'skip=128', 'count=59392', 'status=none']);
  return out;
}

test('Windows volume: a new file like a Windows file gets its $Secure id and flags', { skip }, async () => {
  const image = windowsVolume();
  const source = '/test_dir/111111111111111.txt';
  const n = inode(image, source);
  const want = istatView(image, n);
  assert.ok(want.securityId >= 0x100, `the source has a $Secure id (istat: ${want.securityId})`);
  const data = seeded(20000, 5);
  const report = await withWriter(image, async (w) => {
    const like = await w.fileLike(n);
    assert.ok(like);
    assert.equal(like.securityId, want.securityId);
    await w.writeFile('/test_dir/replaced.sys', data, {
      like: { ...like, fileAttributes: like.fileAttributes! | FILE_ATTRIBUTE.HIDDEN },
    });
    return w.lastWrite!;
  });
  assert.deepEqual(report.warnings, []);
  const m = inode(image, '/test_dir/replaced.sys');
  const got = istatView(image, m);
  assert.equal(got.securityId, want.securityId, 'istat: same security id');
  assert.deepEqual(got.siFlags, [...want.siFlags, 'Hidden'].sort());
  assert.deepEqual(got.fnFlags, got.siFlags);
  assert.equal(got.attributeTypes.includes(SD_ATTRIBUTE), false, 'no own descriptor when the id is used');
  assert.deepEqual(securityAsNtfs3g(image, '/test_dir/replaced.sys'), securityAsNtfs3g(image, source));
  assert.ok(run('icat', [image, String(m)]).equals(Buffer.from(data)));
  assert.match(run('ntfssecaudit', ['-a', image]).toString(), /No errors were found/);
  await assertChecksClean(image, 'Windows volume, like');
  assertNtfsresizeClean(image, 'Windows volume, like');
});

test(
  "Windows volume: unusable security falls back to the folder files' id, with a warning",
  { skip },
  async () => {
    const image = windowsVolume();
    const sibling = istatView(image, inode(image, '/test_dir/111111111111111.txt')).securityId;
    const foreignSd = run('icat', [synthetic, `${inode(synthetic, DRIVER)}-${SD_ATTRIBUTE}`]);
    const reports = await withWriter(image, async (w) => {
      const out = [];
      await w.writeFile('/test_dir/unknown-id.bin', seeded(10, 1), { like: { securityId: 0x7ffffff0 } });
      out.push(w.lastWrite!);
      await w.writeFile('/test_dir/bad-sd.bin', seeded(10, 2), {
        like: { securityDescriptor: seeded(64, 3) },
      });
      out.push(w.lastWrite!);
      // An id that exists here but names another ACL than the descriptor given: the descriptor wins.
      await w.writeFile('/test_dir/foreign.bin', seeded(3000, 4), {
        like: { securityId: sibling, securityDescriptor: foreignSd },
      });
      out.push(w.lastWrite!);
      return out;
    });
    for (const [i, name] of ['unknown-id.bin', 'bad-sd.bin'].entries()) {
      const v = istatView(image, inode(image, `/test_dir/${name}`));
      assert.equal(v.securityId, sibling, `${name}: the sibling id`);
      assert.deepEqual(v.siFlags, ['Archive'], `${name}: default flags`);
      assert.equal(reports[i]!.securityId, sibling);
      assert.ok(reports[i]!.warnings.length > 0, `${name}: a warning says so`);
    }
    const f = inode(image, '/test_dir/foreign.bin');
    assert.equal(istatView(image, f).securityId, 0);
    assert.ok(run('icat', [image, `${f}-${SD_ATTRIBUTE}`]).equals(foreignSd));
    assert.match(reports[2]!.warnings.join('\n'), /another descriptor/);
    assert.deepEqual(securityAsNtfs3g(image, '/test_dir/foreign.bin'), securityAsNtfs3g(synthetic, DRIVER));
    await assertChecksClean(image, 'Windows volume, fallbacks');
    assertNtfsresizeClean(image, 'Windows volume, fallbacks');
  },
);

test('without like (or with an empty one) nothing changes: same bytes, default $STANDARD_INFORMATION', async () => {
  const base = buildVolume({ sizeMiB: 8, bigDir: 150, small: true });
  const now = (): Date => new Date('2026-01-02T03:04:05Z');
  const ops = async (image: string, options: object | undefined): Promise<void> => {
    await withWriter(
      image,
      async (w) => {
        const o = options as Parameters<typeof w.writeFile>[2];
        await w.writeFile('/Windows/System32/drivers/new1.sys', seeded(50000, 1), o);
        await w.writeFile('/Windows/System32/drivers/new2.sys', seeded(300, 2), o);
        await w.writeFile('/Windows/System32/drivers/drv05.sys', seeded(9000, 4), o);
        if (!options || !('like' in options)) assert.deepEqual(w.warnings, []);
      },
      { now },
    );
  };
  const plain = copyImage(base, t.dir);
  await ops(plain, undefined);
  for (const options of [{}, { like: {} }]) {
    const other = copyImage(base, t.dir);
    await ops(other, options);
    assert.equal(imageSha(other), imageSha(plain), `writeFile(..., ${JSON.stringify(options)})`);
  }
  const v = istatView(plain, inode(plain, '/Windows/System32/drivers/new1.sys'));
  assert.deepEqual(v.siFlags, ['Archive']);
  assert.deepEqual(v.fnFlags, ['Archive']);
  assert.equal(v.attributeTypes.includes(SD_ATTRIBUTE), false);
});

test('like on an existing file: content replaced, identity kept, a warning says like was ignored', async () => {
  const image = copySparse(synthetic);
  const n = inode(image, DRIVER);
  const before = istatView(image, n);
  const report = await withWriter(image, async (w) => {
    await w.writeFile(DRIVER, seeded(5000, 8), { like: { fileAttributes: FILE_ATTRIBUTE.HIDDEN } });
    return w.lastWrite!;
  });
  assert.equal(report.created, false);
  assert.match(report.warnings.join(), /ignored/);
  assert.deepEqual(istatView(image, n), before);
  assert.ok(run('icat', [image, String(n)]).equals(Buffer.from(seeded(5000, 8))));
});

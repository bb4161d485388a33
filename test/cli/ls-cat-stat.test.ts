// `winrescue ls`, `cat`, `stat` run as a user would, judged by sleuthkit (fls, icat, istat) on the same image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { buildDisk, type BuiltDisk } from '../fixtures/factory.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { run } from '../helpers/tools.js';
import { assertOneLineError, winrescue } from './helpers.js';

const skip = sharedSkip();

interface JsonEntry {
  path: string;
  record: number;
  type: 'file' | 'dir';
  size: number;
}

/**
 * `fls -r -p -l` as "type record path [size]" lines (fls prints a directory's index root size where we
 * print 0, so directories are compared without size). Left out: deleted names, named streams (path:stream),
 * fls's virtual $OrphanFiles.
 */
function flsLines(image: string, offsetBytes: number): string[] {
  const args = ['-r', '-p', '-l', ...(offsetBytes ? ['-o', String(offsetBytes / 512)] : []), image];
  const lines: string[] = [];
  for (const line of run('fls', args).toString('utf8').split('\n')) {
    const m = /^(\S)\/(\S) (\* )?(\d+)(?:-\d+-\d+)?(?:\(realloc\))?:\t([^\t]*)\t(?:[^\t]*\t){4}(\d+)\t/.exec(
      line,
    );
    if (!m || m[3] || m[5]!.includes(':') || m[5]!.startsWith('$OrphanFiles')) continue;
    const dir = m[2] === 'd';
    lines.push(`${dir ? 'd' : 'f'} ${m[4]} /${m[5]}${dir ? '' : ' ' + m[6]}`);
  }
  return lines.sort();
}

function ourLines(entries: JsonEntry[]): string[] {
  return entries
    .map(
      (e) => `${e.type === 'dir' ? 'd' : 'f'} ${e.record} ${e.path}${e.type === 'dir' ? '' : ' ' + e.size}`,
    )
    .sort();
}

function diff(ours: string[], theirs: string[]): string {
  const a = new Set(ours);
  const b = new Set(theirs);
  return `only ours: ${JSON.stringify(ours.filter((x) => !b.has(x)).slice(0, 8))}\nonly fls: ${JSON.stringify(theirs.filter((x) => !a.has(x)).slice(0, 8))}`;
}

/** Files fls has no line for: metadata files without an unnamed $DATA (docs/formats/ntfs.md, oracles). */
const NO_FLS_LINE = /^f \d+ \/(\$Secure|\$Extend\/\$Quota|\$Extend\/\$ObjId|\$Extend\/\$Reparse) 0$/;

let disk: BuiltDisk | undefined;
async function gen1(): Promise<BuiltDisk> {
  disk ??= await buildDisk({ gen: 1, flavour: 'real' });
  return disk;
}

test(
  'ls -r --json / of the Gen1 Windows volume equals fls -r -p: paths, records, sizes',
  { skip },
  async () => {
    const d = await gen1();
    const r = winrescue(['ls', d.raw, '/', '-r', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { partition: number; entries: JsonEntry[]; errors?: unknown[] };
    assert.equal(doc.partition, d.manifest.windows.partition, 'the Windows partition is chosen by default');
    assert.equal(doc.errors, undefined);
    const ours = ourLines(doc.entries).filter((l) => !NO_FLS_LINE.test(l));
    const theirs = flsLines(d.raw, d.manifest.windows.start);
    assert.ok(theirs.length > 500, `fls listed ${theirs.length} lines`);
    assert.deepEqual(ours, theirs, diff(ours, theirs));
    // Human output: the same entries, one per line.
    const h = winrescue(['ls', d.raw, '/Windows/System32/drivers']);
    assert.equal(h.status, 0, h.stderr);
    const acpi = doc.entries.find((e) => e.path === '/Windows/System32/drivers/acpi.sys')!;
    assert.match(
      h.stdout,
      new RegExp(`^- +${acpi.size} +${acpi.record}  /Windows/System32/drivers/acpi\\.sys$`, 'm'),
    );
    assert.equal(
      h.stdout.trimEnd().split('\n').length,
      doc.entries.filter((e) => /^\/Windows\/System32\/drivers\/[^/]+$/.test(e.path)).length,
    );
  },
);

test(
  "cat of a System32 driver equals icat; stat lists its System32 and WinSxS names and istat's record",
  { skip },
  async () => {
    const d = await gen1();
    const w = d.manifest.windows;
    const drv = w.tree.drivers.find((x) => x.name === 'acpi.sys')!;
    // Case-insensitive, backslashes: as a Windows user would type it.
    const s = winrescue(['stat', d.raw, drv.path, '--json']);
    assert.equal(s.status, 0, s.stderr);
    const st = JSON.parse(s.stdout) as {
      record: number;
      names: string[];
      linkCount: number;
      size: number;
      type: string;
    };
    const bytes = run('icat', ['-o', String(w.start / 512), d.raw, String(st.record)]);
    const raw = spawnCat(d.raw, drv.path.toUpperCase().replaceAll('/', '\\'));
    assert.equal(raw.length, bytes.length);
    assert.equal(
      createHash('sha256').update(raw).digest('hex'),
      createHash('sha256').update(bytes).digest('hex'),
    );
    assert.equal(createHash('sha256').update(raw).digest('hex'), drv.sha256);
    assert.deepEqual([...st.names].sort(), [drv.path, drv.winSxS].sort());
    assert.equal(st.type, 'file');
    assert.equal(st.size, bytes.length);
    const istat = run('istat', ['-o', String(w.start / 512), d.raw, String(st.record)]).toString();
    assert.match(istat, /^Links: 2$/m);
    assert.equal(st.linkCount, 2);
    assert.match(istat, new RegExp(`^MFT Entry Header Values:\\nEntry: ${st.record} `, 'm'));
  },
);

test('--partition 1 on Gen1 reads System Reserved: /Boot/BCD as fls and icat see it', { skip }, async () => {
  const d = await gen1();
  const sr = d.manifest.layout.partitions[0]!;
  const r = winrescue(['ls', d.raw, '/Boot', '--partition', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { partition: number; entries: JsonEntry[] };
  assert.equal(doc.partition, 1);
  const bcd = doc.entries.find((e) => e.path === '/Boot/BCD');
  assert.ok(bcd, JSON.stringify(doc.entries.map((e) => e.path)));
  const fls = flsLines(d.raw, sr.start).find((l) => / \/Boot\/BCD /.test(l))!;
  assert.equal(`f ${bcd.record} /Boot/BCD ${bcd.size}`, fls);
  const bytes = run('icat', ['-o', String(sr.start / 512), d.raw, String(bcd.record)]);
  assert.ok(spawnCat(d.raw, '/Boot/BCD', ['--partition', '1']).equals(bytes));
  // The Windows volume has no /Boot/BCD: the default choice is not System Reserved.
  assertOneLineError(winrescue(['stat', d.raw, '/Boot/BCD']));
  assertOneLineError(winrescue(['ls', d.raw, '/', '--partition', '7']));
});

test('missing path: exit 2, one line, for ls, cat and stat', { skip }, async () => {
  const d = await gen1();
  for (const cmd of ['ls', 'cat', 'stat']) {
    const line = assertOneLineError(winrescue([cmd, d.raw, '/Windows/System32/drivers/nope.sys']));
    assert.match(line, /nope\.sys/);
  }
  const j = winrescue(['stat', d.raw, '/nope', '--json']);
  assert.equal(j.status, 2);
  assert.equal((JSON.parse(j.stdout) as { error: { code: string } }).error.code, 'ntfs.notFound');
});

test('a bare Windows-made NTFS volume (no partition table) is listed, read and stat-ed', { skip }, () => {
  const vol = testdataFile('ntfs/windows-volume.raw.gz');
  const r = winrescue(['ls', vol, '/', '-r', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { partition: null; entries: JsonEntry[] };
  assert.equal(doc.partition, null);
  const ours = ourLines(doc.entries).filter((l) => !NO_FLS_LINE.test(l));
  const theirs = flsLines(vol, 0);
  assert.deepEqual(ours, theirs, diff(ours, theirs));
  const syslog = doc.entries.find((e) => e.path === '/Windows/System32/config/syslog')!;
  const bytes = run('icat', [vol, String(syslog.record)]);
  assert.ok(spawnCat(vol, '/windows/system32/CONFIG/syslog').equals(bytes));
  const st = JSON.parse(winrescue(['stat', vol, '/Windows/System32/config/syslog', '--json']).stdout) as {
    record: number;
    names: string[];
  };
  assert.equal(st.record, syslog.record);
  assert.deepEqual(st.names, ['/Windows/System32/config/syslog']);
});

test('a reader that goes away (| head) ends cat and ls quietly', { skip }, async () => {
  const d = await gen1();
  const bin = new URL('../../bin/winrescue.js', import.meta.url).pathname;
  for (const cmd of [`cat '${d.raw}' /Windows/System32/config/SYSTEM`, `ls -r '${d.raw}' /`]) {
    const r = spawnSync('sh', ['-c', `'${process.execPath}' '${bin}' ${cmd} | head -c 100 >/dev/null`], {
      encoding: 'utf8',
    });
    assert.equal(r.stderr, '', `${cmd}: ${r.stderr}`);
    assert.equal(r.status, 0);
  }
});

/** `winrescue cat` with binary stdout (the shared helper decodes as UTF-8). */
function spawnCat(image: string, path: string, extra: string[] = []): Buffer {
  return run(process.execPath, [
    new URL('../../bin/winrescue.js', import.meta.url).pathname,
    'cat',
    image,
    path,
    ...extra,
  ]);
}

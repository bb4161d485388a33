// `winrescue put|mv|mkdir|rm` and `undo` run as a user would, judged by sleuthkit (fls/icat), ntfsresize's cluster
// accounting and ntfs-3g's ntfscat on the same image, and by the image's sha256 for dry runs, refusals and undo.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildDisk, copyDisk, type BuiltDisk } from '../fixtures/factory.js';
import { dirtyLogFile, lostClusters } from '../fixtures/inject-check.js';
import { sharedSkip } from '../helpers/testdata.js';
import { runStatus, sha256File, tempDir } from '../helpers/tools.js';
import { flsTree, icat } from '../fixtures-factory/oracles.js';
import { winrescue } from './helpers.js';

const skip = sharedSkip();
const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

let built: BuiltDisk | undefined;
async function fixture(): Promise<BuiltDisk> {
  built ??= await buildDisk({ gen: 1, flavour: 'real' });
  return built;
}

function scratch(): string {
  const t = tempDir('cli-write-');
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Cuts the volume out (sparse), runs ntfsresize's cluster accounting on it, and returns its path for ntfs-3g. */
function ntfsresizeClean(image: string, offset: number, dir: string): string {
  const vol = join(dir, 'vol.img');
  const dd = runStatus('dd', [
    `if=${image}`,
    `of=${vol}`,
    'bs=1M',
    `skip=${offset / 1048576}`,
    'conv=sparse',
    'status=none',
  ]);
  assert.equal(dd.status, 0, dd.stderr);
  const r = runStatus('ntfsresize', ['-i', '-f', '-P', vol]);
  assert.equal(r.status, 0, `ntfsresize -i -f: ${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /accounting failed|error/i);
  return vol;
}

test(
  'put, mkdir, mv, rm change exactly what sleuthkit and ntfs-3g then see; undo restores the sha256',
  { skip },
  async () => {
    const d = await fixture();
    const dir = scratch();
    const disk = copyDisk(d, dir);
    const before = await sha256File(disk.path);
    const local = join(dir, 'tool.bin');
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
    writeFileSync(local, payload);

    const dry = winrescue(['put', disk.path, local, '/Windows/Temp/tool.bin', '--dry-run', '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    const dryDoc = JSON.parse(dry.stdout) as { dryRun: boolean; bytesChanged: number; journal: unknown };
    assert.equal(dryDoc.dryRun, true);
    // Bytes equal to what the free clusters held (zeros) do not count as changed.
    const nonZero = payload.filter((b) => b !== 0).length;
    assert.ok(
      dryDoc.bytesChanged >= nonZero,
      `a dry run reports the bytes it would write (${dryDoc.bytesChanged})`,
    );
    assert.equal(await sha256File(disk.path), before, 'a dry run writes nothing');
    assert.equal(existsSync(`${disk.path}.winrescue-undo`), false);

    for (const args of [
      ['put', disk.path, local, '/Windows/Temp/tool.bin'],
      ['mkdir', disk.path, '/Windows/Temp/Rescue'],
      ['mv', disk.path, '/Windows/Temp/tool.bin', '/Windows/Temp/Rescue/renamed.bin'],
      ['rm', disk.path, '/Windows/System32/drivers/acpi.sys'],
    ]) {
      const r = winrescue([...args, '--json']);
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      const doc = JSON.parse(r.stdout) as { checkProblems: string[]; undo: string };
      assert.deepEqual(doc.checkProblems, []);
      assert.equal(doc.undo, `winrescue undo ${disk.path}`);
    }
    const tree = flsTree(disk.path, disk.offset);
    const moved = tree.get('/Windows/Temp/Rescue/renamed.bin');
    assert.ok(moved, 'fls finds the moved file');
    assert.equal(tree.has('/Windows/Temp/tool.bin'), false);
    assert.ok(icat(disk.path, disk.offset, moved.inode).equals(payload), 'icat reads the bytes we put');
    assert.equal(tree.has('/Windows/System32/drivers/acpi.sys'), false);
    // acpi.sys is hard-linked to its WinSxS twin: removing one name leaves the other with the data.
    const twin = [...tree.keys()].find((p) => /\/WinSxS\/amd64_dual_acpi[^/]*\/acpi\.sys$/i.test(p));
    assert.ok(twin, 'the WinSxS name is still listed');
    const vol = ntfsresizeClean(disk.path, disk.offset, dir);
    const cat = spawnSync('ntfscat', [vol, '/Windows/Temp/Rescue/renamed.bin'], { maxBuffer: 1 << 24 });
    assert.equal(cat.status, 0, cat.stderr?.toString());
    assert.ok(
      Buffer.from(cat.stdout).equals(payload),
      'ntfs-3g finds the moved file through our index and reads it',
    );

    const undo = winrescue(['undo', disk.path]);
    assert.equal(undo.status, 0, undo.stderr);
    assert.equal(await sha256File(disk.path), before, 'undo brings back the original image');
  },
);

test('a dirty $LogFile is refused (exit 1, nothing written) unless --force-dirty-log', { skip }, async () => {
  const d = await fixture();
  const dir = scratch();
  const disk = copyDisk(d, dir);
  dirtyLogFile(disk).confirm();
  const before = await sha256File(disk.path);
  const local = join(dir, 'x.txt');
  writeFileSync(local, 'x');
  const refused = winrescue(['put', disk.path, local, '/Windows/Temp/x.txt']);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /\$LogFile/);
  assert.equal(await sha256File(disk.path), before);
  const forced = winrescue(['put', disk.path, local, '/Windows/Temp/x.txt', '--force-dirty-log', '--json']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.ok(flsTree(disk.path, disk.offset).has('/Windows/Temp/x.txt'));
});

test(
  'bad input: missing local file, missing path, existing target — one-line errors, nothing written',
  { skip },
  async () => {
    const d = await fixture();
    const dir = scratch();
    const disk = copyDisk(d, dir);
    const before = await sha256File(disk.path);
    const noLocal = winrescue(['put', disk.path, join(dir, 'none'), '/Windows/Temp/x']);
    assert.equal(noLocal.status, 2);
    assert.match(noLocal.stderr, /cannot read/);
    const noPath = winrescue(['rm', disk.path, '/Windows/NoSuchThing']);
    assert.equal(noPath.status, 2);
    assert.match(noPath.stderr, /no such file/);
    const exists = winrescue(['mkdir', disk.path, '/Windows/System32']);
    assert.notEqual(exists.status, 0);
    assert.equal(exists.stderr.trimEnd().split('\n').length, 1, exists.stderr);
    assert.equal(await sha256File(disk.path), before);
  },
);

test(
  'a volume our check finds damaged is refused (exit 1, nothing written) unless --force-damaged',
  { skip },
  async () => {
    const d = await fixture();
    const dir = scratch();
    const disk = copyDisk(d, dir);
    lostClusters(disk).confirm();
    const before = await sha256File(disk.path);
    const refused = winrescue(['mkdir', disk.path, '/Windows/Temp/Rescue']);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /lost-clusters.*--force-damaged/);
    assert.equal(await sha256File(disk.path), before);
    const forced = winrescue(['mkdir', disk.path, '/Windows/Temp/Rescue', '--force-damaged', '--json']);
    assert.equal(forced.status, 0, forced.stderr);
    // The damage was there before: it is not reported as something the write caused.
    assert.deepEqual((JSON.parse(forced.stdout) as { checkProblems: string[] }).checkProblems, []);
    assert.ok(flsTree(disk.path, disk.offset).has('/Windows/Temp/Rescue'));
  },
);

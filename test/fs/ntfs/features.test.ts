// Facts diagnosis relies on: WOF-compressed files reported (and refused with a clear error), hibernated
// Windows (hiberfil.sys signature), the $Volume dirty flag. Each fact is planted with real tools or at
// offsets from sleuthkit, and confirmed by sleuthkit or ntfs-3g first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, runStatus, tempDir } from '../../helpers/tools.js';
import { WinrescueError } from '../../../src/errors.js';
import { buildVolume } from './volumes.js';
import { appendResidentAttribute, copyImage, editRecord, findAttr, ifind } from './inject.js';
import { openImage } from './oracle.js';

const REPARSE_POINT = 0xc0;
const VOLUME_INFORMATION = 0x70;

/** A WOF reparse buffer: tag, length, then WOF_EXTERNAL_INFO {1, FILE} and FILE_PROVIDER_EXTERNAL_INFO_V1. */
function wofReparse(algorithm: number): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x80000017, true);
  v.setUint16(4, 16, true);
  v.setUint32(8, 1, true);
  v.setUint32(12, 2, true);
  v.setUint32(16, 1, true);
  v.setUint32(20, algorithm, true);
  return b;
}

test('a WOF-compressed file is reported by stat and refused by openStream with a clear error', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume({ sizeMiB: 48, bigDir: 2100 }), t.dir);
    const n = ifind(image, '/tiny.txt');
    appendResidentAttribute(image, n, REPARSE_POINT, wofReparse(2));
    assert.match(run('istat', [image, String(n)]).toString(), /\$REPARSE_POINT \(192-\d+\)/);
    const { vol, close } = await openImage(image);
    try {
      const st = await vol.stat(n);
      assert.equal(st.reparse?.kind, 'wof');
      assert.deepEqual(st.reparse?.wof, { provider: 'file', algorithm: 'XPRESS8K' });
      await assert.rejects(vol.openStream(n), (e: unknown) => {
        assert.ok(e instanceof WinrescueError);
        assert.equal(e.code, 'ntfs.unsupported');
        assert.match(e.message, /is WOF-compressed \(XPRESS8K\); decompression not supported/);
        return true;
      });
    } finally {
      await close();
    }
  } finally {
    t.cleanup();
  }
});

for (const sig of ['HIBR', 'wake', 'RSTR']) {
  test(`hiberfil.sys starting with ${sig}: ${sig === 'RSTR' ? 'not ' : ''}hibernated`, async () => {
    const image = buildVolume({ sizeMiB: 16, hiberfil: sig, extras: false, small: true });
    assert.equal(run('ntfscat', [image, '/hiberfil.sys']).subarray(0, 4).toString('latin1'), sig);
    const { vol, close } = await openImage(image);
    try {
      const info = await vol.info();
      assert.deepEqual(info.hibernation, { present: true, signature: sig, hibernated: sig !== 'RSTR' });
    } finally {
      await close();
    }
  });
}

test('the $Volume dirty flag is reported as ntfsinfo reports it', async () => {
  const t = tempDir();
  try {
    const image = copyImage(buildVolume({ sizeMiB: 48, bigDir: 2100 }), t.dir);
    editRecord(image, 3, (rec, view) => {
      const at = findAttr(view, VOLUME_INFORMATION);
      const value = at + view.getUint16(at + 20, true);
      view.setUint16(value + 10, view.getUint16(value + 10, true) | 1, true);
    });
    // ntfs-3g refuses a volume marked dirty ("scheduled for check") unless forced, then shows the flag.
    assert.match(runStatus('ntfsinfo', ['-m', image]).stderr, /Volume is scheduled for check/);
    assert.match(run('ntfsinfo', ['-f', '-m', image]).toString(), /Volume Flags: 0x0001/);
    const { vol, close } = await openImage(image);
    try {
      const info = await vol.info();
      assert.equal(info.dirty, true);
      assert.equal(info.volumeFlags & 1, 1);
    } finally {
      await close();
    }
  } finally {
    t.cleanup();
  }
});

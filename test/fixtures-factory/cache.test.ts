// The cache's key and its behaviour under concurrent builders (two real processes asking at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { canonicalJson, FIXTURES_DIR, specKey } from '../fixtures/cache.js';

test('specKey: the same spec in any key order gives the same key; different specs differ', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { maxKeys: 8 }),
      fc.nat(),
      (obj, seed) => {
        const keys = Object.keys(obj);
        const shuffled: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) {
          const k = keys[(i + seed) % keys.length]!;
          shuffled[k] = obj[k];
        }
        assert.equal(specKey(shuffled), specKey(obj));
        assert.equal(canonicalJson(shuffled), canonicalJson(obj));
        assert.notEqual(specKey({ ...obj, __extra: 1 }), specKey(obj));
      },
    ),
  );
});

function child(hugeDirectoryFiles: number): Promise<string> {
  const mod = join(process.cwd(), 'test/fixtures/many-files.ts');
  const script = `const m = await import('${mod}'); const v = await m.buildManyFilesVolume(300, { hugeDirectoryFiles: ${hugeDirectoryFiles} }); console.log(JSON.stringify({ dir: v.dir, serial: v.manifest.geometry.serial }));`;
  return new Promise((resolve, reject) => {
    const p = spawn('node', ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()!) : reject(new Error(err))));
  });
}

test('two processes asking for the same new fixture get one build, no leftovers', async () => {
  // A spec no other test uses, so both children really have to build it.
  const unique = 10 + (process.pid % 80);
  const [a, b] = await Promise.all([child(unique), child(unique)]);
  const ra = JSON.parse(a);
  const rb = JSON.parse(b);
  try {
    assert.equal(ra.dir, rb.dir);
    // mkntfs picks a random serial: equal serials mean both read the one volume that was built.
    assert.equal(ra.serial, rb.serial);
    const key = ra.dir.split('/').pop();
    const leftovers = readdirSync(FIXTURES_DIR).filter((n: string) => n.includes(key) && n !== key);
    assert.deepEqual(leftovers, [], 'no lock file or temp build folder left behind');
    assert.ok(existsSync(join(ra.dir, 'volume.img')));
  } finally {
    rmSync(ra.dir, { recursive: true, force: true });
  }
});

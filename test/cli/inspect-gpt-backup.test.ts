// A Gen2 disk whose primary GPT header is broken: inspect works from the backup and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSync, writeSync, closeSync } from 'node:fs';
import { buildDisk } from '../fixtures/factory.js';
import { STUB_HIVES } from '../fixtures-factory/oracles.js';
import { run, runStatus, tempDir } from '../helpers/tools.js';
import { winrescue } from './helpers.js';

test(
  'inspect: broken primary GPT header → same partitions from the backup, a warning, exit 0',
  { timeout: 120_000 },
  async () => {
    const built = await buildDisk({ gen: 2, flavour: 'synthetic', hives: STUB_HIVES });
    const { dir, cleanup } = tempDir();
    try {
      const before = JSON.parse(winrescue(['inspect', '--json', built.raw]).stdout) as {
        partitions: unknown[];
      };
      const copy = join(dir, 'disk.raw');
      run('cp', ['--sparse=always', built.raw, copy]);
      const fd = openSync(copy, 'r+');
      writeSync(fd, new Uint8Array(512), 0, 512, 512); // LBA 1: the primary header
      closeSync(fd);
      // The damage is real for an independent reader too.
      const sf = runStatus('sfdisk', ['--json', copy]);
      assert.match(sf.stderr + sf.stdout, /primary GPT header is corrupt|backup/i);
      const r = winrescue(['inspect', '--json', copy]);
      assert.equal(r.status, 0, r.stderr);
      const after = JSON.parse(r.stdout) as { partitions: unknown[]; warnings: string[] };
      assert.deepEqual(after.partitions, before.partitions);
      assert.ok(
        after.warnings.some((w) => /backup/i.test(w)),
        after.warnings.join('\n'),
      );
      const human = winrescue(['inspect', copy]);
      assert.equal(human.status, 0);
      assert.match(human.stderr, /^warning: .*backup/im);
    } finally {
      cleanup();
    }
  },
);

// `npm run fixtures`: prints paths that exist, lists the cache, and fails clearly on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { sharedSkip } from '../helpers/testdata.js';

function fixtures(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('node', ['--import', 'tsx', 'scripts/fixtures.ts', ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test(
  'fixtures gen1 --json prints a raw disk and manifest that exist; --list shows it',
  { skip: sharedSkip() },
  () => {
    const r = fixtures('gen1', '--flavour', 'real', '--formats', 'raw', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(existsSync(out.paths.raw));
    assert.ok(existsSync(out.manifest));
    assert.equal(out.layout.scheme, 'mbr');
    const list = fixtures('--list', '--json');
    assert.equal(list.status, 0, list.stderr);
    assert.ok(JSON.parse(list.stdout).fixtures.some((f: { dir: string }) => f.dir === out.dir));
  },
);

test('fixtures: unknown kind and format exit with a message; synthetic builds with our own hives', () => {
  const bad = fixtures('gen3');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown kind gen3/);
  const syn = fixtures('gen2', '--flavour', 'synthetic', '--json');
  assert.equal(syn.status, 0, syn.stderr);
  const built = JSON.parse(syn.stdout) as { manifest: string };
  const manifest = JSON.parse(readFileSync(built.manifest, 'utf8')) as { hiveSource: string };
  assert.equal(manifest.hiveSource, 'provider:synthetic-v1');
  const fmt = fixtures('gen1', '--formats', 'qcow2');
  assert.notEqual(fmt.status, 0);
  assert.match(fmt.stderr, /unknown format qcow2/);
});

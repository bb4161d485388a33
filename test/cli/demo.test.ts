// `winrescue demo` (npm run demo): the newcomer's first command. Works from the committed sample alone (no
// ../shared, no fixture tools at run time), repairs a temporary copy, and leaves the committed files untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/testdata.js';
import { sha256File } from '../helpers/tools.js';
import { winrescue } from './helpers.js';

const DEMO = join(REPO_ROOT, 'demo');

async function demoHashes(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of readdirSync(DEMO)) out.set(f, await sha256File(join(DEMO, f)));
  return out;
}

test('demo: diagnoses the sample from its screenshot, repairs a temporary copy, verifies; the sample is untouched', async () => {
  const before = await demoHashes();
  const r = winrescue(['demo', '--json'], { timeoutMs: 240_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.diagnosis.cause, 'corrupt-structure');
  assert.equal(j.diagnosis.stopCode, '0xC0000102');
  assert.equal(j.diagnosis.file, '\\Windows\\System32\\drivers\\disk.sys');
  assert.equal(j.diagnosis.symptom.kind, 'boot-manager');
  assert.equal(j.repair.changed, true);
  assert.equal(j.repair.verify.cause, 'healthy');
  assert.deepEqual(j.repair.verify.checkProblems, []);
  assert.deepEqual(
    j.repair.plan.slice(0, 3).map((p: { action: string }) => p.action),
    ['quarantine-record', 'save-old', 'restore-file'],
  );
  assert.ok(j.repair.plan.some((p: { target: string }) => /bootems/.test(p.target)));
  assert.ok(j.repair.plan.some((p: { target: string }) => /CrashDumpEnabled/.test(p.target)));
  assert.deepEqual(await demoHashes(), before, 'committed sample unchanged');
  // The temporary copy is gone unless --keep.
  assert.equal(j.kept, false);
});

test('demo --help names what it does', () => {
  const r = winrescue(['demo', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /sample disk/);
});

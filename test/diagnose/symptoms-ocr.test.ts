// OCR of generated boot screenshots (issue 8 acceptance): ≥ 50 screens of both kinds, three resolutions, blur,
// noise and simulated JPEG artefacts, codes from the knowledge base and realistic paths. The oracle is the
// generator's own input: each image's code and path are known exactly. Prints the rates.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { closeOcr, readScreenshot } from '../../src/diagnose/symptoms/screenshot.js';
import { snapPath } from '../../src/diagnose/symptoms/index.js';
import { STOP_CODES } from '../../src/diagnose/stop-codes.js';
import { renderScreen, screenCases, SCREEN_PATHS } from './screens/screens.js';
import { HELVETICA_DIR, UNIFONT_HEX } from './screens/fonts.js';
import { planWindowsTree } from '../fixtures/windows-tree.js';

const REQUIRED_RATE = 0.95;
const fontsMissing = !existsSync(UNIFONT_HEX) || !existsSync(`${HELVETICA_DIR}/helvR12.pcf.gz`);
const skip = fontsMissing
  ? 'needs the unifont and xfonts-100dpi Debian packages (scripts/install-tools.sh)'
  : false;

after(() => closeOcr());

test('OCR of ≥ 50 generated boot screens: exact stop code and path rates', { skip }, async () => {
  const cases = screenCases([...STOP_CODES.keys()]);
  assert.ok(cases.length >= 50);
  // "The disk": the fixture tree's files plus the screens' paths, as a diagnose run would list them.
  const { manifest } = planWindowsTree({ flavour: 'synthetic', hives: { system: new Uint8Array(4096) } });
  // NTFS names are case-insensitive: one spelling per path, the screens' where both exist.
  const seen = new Set(SCREEN_PATHS.map((p) => p.toLowerCase()));
  const disk = [...SCREEN_PATHS];
  for (const f of manifest.files) {
    const p = f.path.replace(/\//g, '\\');
    if (!seen.has(p.toLowerCase())) disk.push(p);
    seen.add(p.toLowerCase());
  }
  let code = 0;
  let rawPath = 0;
  let snappedPath = 0;
  let kind = 0;
  const misses: string[] = [];
  const started = Date.now();
  for (const c of cases) {
    const s = await readScreenshot(renderScreen(c));
    const snapped = s.path === null ? null : snapPath(s.path, disk);
    if (s.stopCode === c.code) code++;
    if (s.path === c.path) rawPath++;
    if (snapped === c.path) snappedPath++;
    if (s.kind === c.kind) kind++;
    if (s.stopCode !== c.code || snapped !== c.path || s.path !== c.path || s.kind !== c.kind) {
      const got = `${s.kind} ${s.stopCode === null ? 'null' : s.stopCode.toString(16)} ${s.path ?? 'null'} → ${snapped ?? 'null'}`;
      misses.push(
        `  #${c.id} ${c.kind} ${c.width}x${c.height} blur${c.blur} noise${c.noise} jpeg${c.jpeg}: ${got}`,
      );
    }
  }
  const n = cases.length;
  const pct = (k: number): string => `${k}/${n} = ${((100 * k) / n).toFixed(1)}%`;
  console.log(`OCR over ${n} screenshots in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  stop code exact:             ${pct(code)}`);
  console.log(`  path exact, as read:         ${pct(rawPath)}`);
  console.log(`  path exact, snapped to disk: ${pct(snappedPath)}`);
  console.log(`  screen kind:                 ${pct(kind)}`);
  if (misses.length) console.log(misses.join('\n'));
  assert.ok(code / n >= REQUIRED_RATE, `stop code rate ${pct(code)}`);
  assert.ok(snappedPath / n >= REQUIRED_RATE, `snapped path rate ${pct(snappedPath)}`);
  assert.ok(kind / n >= REQUIRED_RATE, `kind rate ${pct(kind)}`);
});

// Component-store and driver-store folder names (REFERENCE.md §1.6). Oracles: the folders sleuthkit lists in a
// fixture disk's WinSxS and FileRepository against the tree generator's manifest (which made them from the
// component identities), a regular expression written from the §1.6 pattern for random names, and a tuple model
// for version order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildDisk } from '../fixtures/index.js';
import { run } from '../helpers/tools.js';
import {
  compareVersions,
  parseComponentFolder,
  parseDriverStoreFolder,
  parseVersion,
} from '../../src/repair/component-name.js';

/** Directory names sleuthkit lists directly under `path` of the fixture's Windows volume. */
function flsDirs(image: string, offset: number, path: string): string[] {
  const sectors = String(offset / 512);
  const inode = run('ifind', ['-o', sectors, '-n', path, image]).toString().trim();
  const out = run('fls', ['-D', '-o', sectors, image, inode]).toString();
  return out
    .split('\n')
    .map((l) => /^d\/d \d+(?:-\d+-\d+)?:\t(.*)$/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

test('every WinSxS folder sleuthkit lists: component folders parse as the generator made them, the rest do not', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const { start } = disk.manifest.windows;
  const names = flsDirs(disk.raw, start, '/Windows/WinSxS');
  const made = new Map(
    disk.manifest.windows.tree.components.map((c) => [c.folder.split('/').pop()!, c] as const),
  );
  assert.ok(made.size >= 80, `${made.size} components in the manifest`);
  let parsed = 0;
  for (const name of names) {
    const c = parseComponentFolder(name);
    const m = made.get(name);
    if (!m) {
      assert.equal(c, null, `${name} is not a component folder`);
      continue;
    }
    assert.ok(c, `${name} should parse`);
    assert.equal(c.family, m.family.toLowerCase(), name);
    assert.equal(c.version, m.version, name);
    assert.equal(c.arch, 'amd64');
    assert.equal(c.publicKeyToken, '31bf3856ad364e35');
    assert.equal(c.culture, 'none');
    parsed++;
  }
  assert.equal(parsed, made.size, 'sleuthkit lists every component folder the generator made');
  for (const other of ['Temp', 'Manifests', 'Backup']) assert.ok(names.includes(other), other);
  // Component names with underscores keep them: the fixed fields come from both ends.
  const acpi = parseComponentFolder(names.find((n) => n.startsWith('amd64_dual_acpi.inf_'))!);
  assert.equal(acpi?.name, 'dual_acpi.inf');
});

test('every driver store package sleuthkit lists parses to the inf the generator used', async () => {
  const disk = await buildDisk({ gen: 2, flavour: 'synthetic' });
  const names = flsDirs(
    disk.raw,
    disk.manifest.windows.start,
    '/Windows/System32/DriverStore/FileRepository',
  );
  const infs = new Set(
    disk.manifest.windows.tree.drivers
      .filter((d) => d.driverStore !== null)
      .map((d) => d.driverStore!.split('/').slice(-2)[0]!),
  );
  assert.deepEqual(new Set(names), infs);
  for (const n of names) {
    const p = parseDriverStoreFolder(n);
    assert.ok(p, n);
    assert.equal(p.arch, 'amd64');
    assert.equal(`${p.inf}_${p.arch}_${p.hash}`, n.toLowerCase());
  }
  assert.equal(parseDriverStoreFolder('disk.inf_amd64'), null);
  assert.equal(parseDriverStoreFolder('disk_amd64_0123456789abcdef'), null, 'not an inf');
  assert.equal(parseDriverStoreFolder('disk.inf_sparc_0123456789abcdef'), null);
});

/** The §1.6 pattern as one backtracking regular expression: an implementation apart from the parser's split. */
const PATTERN =
  /^(amd64|x86|wow64|arm64|msil)_(.+)_([0-9a-f]{16})_(\d{1,5})\.(\d{1,5})\.(\d{1,5})\.(\d{1,5})_(none|[a-z]{2,3}(?:-[a-z0-9]{2,8})*)_([0-9a-f]{16})$/i;

function oracle(name: string) {
  const m = PATTERN.exec(name);
  if (!m || m.slice(4, 8).some((p) => Number(p) > 0xffff)) return null;
  return {
    arch: m[1]!.toLowerCase(),
    name: m[2]!,
    version: m.slice(4, 8).join('.'),
    culture: m[8]!.toLowerCase(),
  };
}

const hex16 = fc.stringMatching(/^[0-9a-fA-F]{16}$/);
const part = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 99999 }));
/** Mostly well-formed fields (so that many names parse), sometimes junk. */
const mostly = <T>(good: fc.Arbitrary<T>, junk: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: junk, weight: 1 });
const folderName = fc
  .record({
    arch: mostly(
      fc.constantFrom('amd64', 'x86', 'wow64', 'arm64', 'msil', 'AMD64'),
      fc.oneof(fc.constantFrom('ia64', ''), fc.stringMatching(/^[a-z0-9._-]{0,12}$/)),
    ),
    // Names may hold underscores and dots, as dual_acpi.inf does.
    name: mostly(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,24}$/), fc.constantFrom('', '_', '__')),
    token: mostly(hex16, fc.stringMatching(/^[0-9a-g]{14,17}$/)),
    version: mostly(
      fc.tuple(part, part, part, part).map((t) => t.join('.')),
      fc.stringMatching(/^[0-9.]{1,12}$/),
    ),
    culture: mostly(
      fc.constantFrom('none', 'en-us', 'zh-hant-tw', 'EN-US', 'de-de'),
      fc.stringMatching(/^[a-z_-]{0,8}$/),
    ),
    hash: mostly(hex16, fc.stringMatching(/^[0-9a-f]{15,17}$/)),
  })
  .map((r) => `${r.arch}_${r.name}_${r.token}_${r.version}_${r.culture}_${r.hash}`);

test('property: parseComponentFolder agrees with the §1.6 pattern on random names', () => {
  const counts = { parsed: 0, rejected: 0 };
  fc.assert(
    fc.property(folderName, (name) => {
      const ours = parseComponentFolder(name);
      const want = oracle(name);
      counts[want === null ? 'rejected' : 'parsed']++;
      if (want === null) {
        assert.equal(ours, null, name);
        return;
      }
      assert.ok(ours, name);
      assert.deepEqual(
        { arch: ours.arch, name: ours.name, version: ours.version, culture: ours.culture },
        want,
      );
      assert.equal(
        ours.family,
        `${want.arch}_${want.name}_${ours.publicKeyToken}_${want.culture}`.toLowerCase(),
      );
    }),
    { numRuns: 3000 },
  );
  // Both sides of the pattern are exercised, not just junk.
  assert.ok(counts.parsed > 600 && counts.rejected > 300, JSON.stringify(counts));
});

/** -1, 0 or 1 (never -0, which strict equality tells apart). */
const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

test('property: compareVersions orders like the 4-tuple of numbers; junk sorts lowest', () => {
  const v = fc.tuple(part, part, part, part);
  fc.assert(
    fc.property(v, v, (a, b) => {
      const sa = a.join('.');
      const sb = b.join('.');
      const valid = (t: number[]) => t.every((x) => x <= 0xffff);
      let model = 0;
      if (valid(a) && valid(b)) {
        for (let i = 0; i < 4 && model === 0; i++) model = a[i]! - b[i]!;
      } else model = Number(valid(a)) - Number(valid(b));
      assert.equal(sign(compareVersions(sa, sb)), sign(model), `${sa} vs ${sb}`);
      assert.equal(sign(compareVersions(sb, sa)), sign(-model));
    }),
    { numRuns: 2000 },
  );
  assert.ok(compareVersions('10.0.17763.10', '10.0.17763.9') > 0, 'numeric, not text');
  assert.ok(compareVersions(null, '1.0.0.0') < 0);
  assert.equal(compareVersions(null, null), 0);
  assert.equal(parseVersion('1.2.3'), null);
  assert.equal(parseVersion('1.2.3.65536'), null);
  assert.deepEqual(parseVersion('10.0.17763.5830'), [10, 0, 17763, 5830]);
});

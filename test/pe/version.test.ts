// Version resource: the fixed FileVersion against pe-builder's signature scan (synthetic) and the StringFileInfo
// strings against `strings -el` (Microsoft PEs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { versionInfo } from '../../src/pe/index.js';
import { buildPe, findFileVersion } from '../fixtures/pe-builder.js';
import { sharedSkip, testdataFile } from '../helpers/testdata.js';
import { run } from '../helpers/tools.js';

const ALL = ['acpi.sys', 'amdxata.sys', 'WdBoot.sys', 'amdi2c.sys', 'kernel32.dll', 'shimeng.dll'];

/** The value `strings -el` prints on the line after a key (UTF-16LE strings in the file). */
function stringsValue(lines: string[], key: string): string | undefined {
  // The key may also occur as plain text before the resource (kernel32 names them in code): the last hit is it.
  const i = lines.lastIndexOf(key);
  return i >= 0 ? lines[i + 1] : undefined;
}

test(
  'Microsoft PEs: FileVersion, ProductVersion and strings as `strings -el` shows them',
  { skip: sharedSkip() },
  () => {
    for (const name of ALL) {
      const path = testdataFile(`pe/${name}`);
      const v = versionInfo(new Uint8Array(readFileSync(path)));
      assert.ok(v, name);
      const lines = run('strings', ['-el', path]).toString().split('\n');
      for (const key of ['FileVersion', 'ProductVersion', 'OriginalFilename', 'CompanyName']) {
        assert.equal(v.strings[key], stringsValue(lines, key), `${name} ${key}`);
      }
      assert.match(v.strings.CompanyName ?? '', /^(Microsoft Corporation|Advanced Micro Devices)/);
      // The fixed binary version is the leading part of the FileVersion string on these files.
      assert.ok(
        v.fileVersion && v.strings.FileVersion!.startsWith(v.fileVersion),
        `${name} ${v.fileVersion}`,
      );
      assert.equal(v.fileVersion, findFileVersion(new Uint8Array(readFileSync(path))), name);
    }
  },
);

test("synthetic PEs: version equals pe-builder's, for any version and kind", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.nat(65535), fc.nat(65535), fc.nat(65535), fc.nat(65535)),
      fc.constantFrom('driver', 'kernel-dll', 'user-dll', 'efi-app'),
      fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/),
      (parts, kind, base) => {
        const version = parts.join('.');
        const name = `${base}.sys`;
        const b = buildPe({ name, kind: kind as 'driver', version, textSize: 512 });
        const v = versionInfo(b);
        assert.ok(v);
        assert.equal(v.fileVersion, findFileVersion(b));
        assert.equal(v.fileVersion, version);
        assert.equal(v.productVersion, version);
        assert.equal(v.strings.OriginalFilename, name);
      },
    ),
    { numRuns: 60 },
  );
});

// The symptom text parser, serial-log reader, stop-code KB and snapPath.
// Oracles: the verbatim screen texts of REFERENCE.md §3 (from Microsoft's articles and real posts) with their known
// code and path; fast-check injecting OCR confusions into those texts; the fixture factory's Windows tree for snapPath.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSymptomText, readSerialLog, snapPath } from '../../src/diagnose/symptoms/index.js';
import { STOP_CODES, formatStopCode, lookupStopCode } from '../../src/diagnose/stop-codes.js';
import { planWindowsTree } from '../fixtures/windows-tree.js';

const BOOT_MANAGER = (path: string, code: string, info: string): string => `Windows Boot Manager

Windows failed to start. A recent hardware or software change might be the
cause. To fix the problem:

  1. Insert your Windows installation disc and restart your computer.
  2. Choose your language settings, and then click "Next."
  3. Click "Repair your computer."

If you do not have this disc, contact your system administrator or computer
manufacturer for assistance.

    File: ${path}

    Status: ${code}

    Info: ${info}

ENTER=OS Selection                                              ESC=Recovery
`;

const RECOVERY = (path: string, code: string, info: string): string => `Recovery
Your PC/Device needs to be repaired
${info}
File: ${path}
Error code: ${code}
Choose one of the options below to address this problem.
Press Esc for recovery
Press Enter to try again
Press F8 for Startup Settings
`;

const DRIVER_INFO =
  "The operating system couldn't be loaded because a critical system\n          driver is missing or contains errors.";

test('REFERENCE.md §3 screens: kind, code and path read exactly', () => {
  const a = parseSymptomText(
    BOOT_MANAGER('\\Windows\\System32\\drivers\\cng.sys', '0xc0000102', DRIVER_INFO),
  );
  assert.equal(a.kind, 'boot-manager');
  assert.equal(a.stopCode, 0xc0000102);
  assert.equal(a.stopCodeText, '0xc0000102');
  assert.equal(a.path, '\\Windows\\System32\\drivers\\cng.sys');
  assert.match(a.info ?? '', /critical system driver is missing/);
  assert.equal(a.confidence, 1);

  const b = parseSymptomText(
    RECOVERY(
      '\\Windows\\system32\\config\\system',
      '0xc0000225',
      "The operating system couldn't be loaded because the system registry file is missing or contains errors.",
    ),
  );
  assert.equal(b.kind, 'recovery');
  assert.equal(b.stopCode, 0xc0000225);
  assert.equal(b.path, '\\Windows\\system32\\config\\system');

  // umatechnology.org wording, one line, "Error code" capitalised differently.
  const c = parseSymptomText(
    "The Application or Operating System couldn't be loaded because a required file is missing or contains errors. File: \\WINDOWS\\system32\\drivers\\xxxxx.sys Error Code: 0xc0000102",
  );
  assert.equal(c.stopCode, 0xc0000102);
  assert.equal(c.path, '\\WINDOWS\\system32\\drivers\\xxxxx.sys');

  // pastebin.com/4UeX8kiG, a real post.
  const d = parseSymptomText(
    "File: \\ubuntu\\winboot\\wubildr.mbr\nStatus: 0xc000007b\nInfo: The application or operating system couldn't be loaded because a required file is missing or contains errors.",
  );
  assert.equal(d.stopCode, 0xc000007b);
  assert.equal(d.path, '\\ubuntu\\winboot\\wubildr.mbr');

  const e = parseSymptomText('File: \\Boot\\BCD\nError Code: 0xc0000034\n');
  assert.equal(e.path, '\\Boot\\BCD');
  assert.equal(e.stopCode, 0xc0000034);
});

test('typical OCR damage is corrected', () => {
  const cases: Array<[string, number]> = [
    ['Status: 0xc000O102', 0xc0000102],
    ['Status: Oxc0000102', 0xc0000102],
    ['Status: 0xcOOOOl02', 0xc0000102],
    ['Status: 0x c000 0102', 0xc0000102],
    ['Status: 0 xc0000102', 0xc0000102],
    ['Status: @xceo00ldc', 0xc000014c],
    ['STATUS: 0XC000007B', 0xc000007b],
    ['Error code: 0xc00OO428', 0xc0000428],
    ['Error c0de: 0xeOOOO22I', 0xc0000221],
    ['Status; 0xc000014C', 0xc000014c],
    ['Status: 0xc00001|02', 0xc0000110], // wrong on purpose: a stray | adds a digit; only 8 taken, no invention
  ];
  for (const [text, code] of cases.slice(0, -1)) {
    const s = parseSymptomText(text);
    assert.equal(s.stopCode, code, text);
    assert.ok(s.confidence <= 1);
  }
  assert.equal(
    parseSymptomText('File: \\Windows/System32|drivers\\ cng.5ys').path,
    '\\Windows\\System32\\drivers\\cng.sys',
  );
  // A path wrapped at the 80th column continues on the next line.
  const wrapped = parseSymptomText(
    '    File: \\Windows\\System32\\DriverStore\\FileRepository\\vmbus.inf_amd64_a3c2\n      \\vmbus.sys\n    Status: 0xc0000102\n',
  );
  assert.equal(
    wrapped.path,
    '\\Windows\\System32\\DriverStore\\FileRepository\\vmbus.inf_amd64_a3c2\\vmbus.sys',
  );
  assert.equal(parseSymptomText('nothing here at all').stopCode, null);
  assert.equal(parseSymptomText('nothing here at all').kind, 'unknown');
});

/** Non-hex look-alikes OCR produces for the characters of a stop code. */
const CODE_NOISE: Readonly<Record<string, readonly string[]>> = {
  '0': ['O', 'o', 'Q'],
  '1': ['l', 'I', '|', '!'],
  '5': ['S'],
  '2': ['Z'],
};

test('fast-check: OCR confusions injected into the code, case and spacing changed, still the same code', () => {
  const codes = [...STOP_CODES.keys()];
  const paths = [
    '\\Windows\\System32\\drivers\\cng.sys',
    '\\Windows\\system32\\winload.exe',
    '\\Windows\\System32\\config\\SYSTEM',
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...codes),
      fc.constantFrom(...paths),
      fc.boolean(),
      fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
      fc.boolean(),
      (code, path, recovery, picks, upper) => {
        const hex = code.toString(16).padStart(8, '0');
        let noisy = '';
        for (let i = 0; i < hex.length; i++) {
          const ch = hex[i] as string;
          const alts = CODE_NOISE[ch];
          const p = picks[i] as number;
          noisy += alts && p % 3 === 0 ? (alts[p % alts.length] as string) : upper ? ch.toUpperCase() : ch;
        }
        const codeText = (picks[0] as number) % 4 === 1 ? `O${upper ? 'X' : 'x'}${noisy}` : `0x${noisy}`;
        const text = recovery ? RECOVERY(path, codeText, 'x') : BOOT_MANAGER(path, codeText, DRIVER_INFO);
        const s = parseSymptomText(text);
        assert.equal(s.stopCode, code, codeText);
        assert.equal(s.path, path);
        assert.equal(s.kind, recovery ? 'recovery' : 'boot-manager');
      },
    ),
    { numRuns: 300 },
  );
});

test('fast-check: arbitrary text never throws and yields a well-formed symptom', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (t) => {
      const s = parseSymptomText('Status: ' + t + '\nFile: ' + t);
      assert.ok(s.stopCode === null || (s.stopCode >= 0 && s.stopCode <= 0xffffffff));
      assert.ok(s.confidence >= 0 && s.confidence <= 1);
    }),
    { numRuns: 300 },
  );
});

test('serial log: EMS output with VT100 escapes, several boots, the last failure wins', () => {
  const esc = '\x1b';
  const log = [
    'Hyper-V UEFI Release v4.1',
    `${esc}[2J${esc}[H${esc}[0;37;40m`,
    '<?xml version="1.0"?><machine-info><name>VM1</name><guid>00000000-0000-0000-0000-000000000000</guid></machine-info>',
    `${esc}[1;1HWindows Boot Manager\r`,
    `${esc}[3;1HWindows failed to start. A recent hardware or software change might be the\r`,
    `${esc}[13;5HFile: \\Windows\\system32\\winload.exe\r`,
    `${esc}[15;5HStatus: 0xc000000f\r`,
    `${esc}[2J`,
    'Computer is booting, SAC started and initialized.',
    `${esc}[1;1HWindows Boot Manager\r`,
    `${esc}[13;5HFile: \\Windows\\System32\\drivers\\storvsc.sys\r`,
    `${esc}[15;5HStatus: 0xc0000102\r`,
    `${esc}[17;5HInfo: The operating system couldn't be loaded because a critical system\r`,
    `${esc}[18;11Hdriver is missing or contains errors.\r`,
    `${esc}[24;1HENTER=OS Selection${esc}[24;65HESC=Recovery`,
    '',
  ].join('\n');
  const s = readSerialLog(log);
  assert.equal(s.kind, 'serial');
  assert.equal(s.stopCode, 0xc0000102);
  assert.equal(s.path, '\\Windows\\System32\\drivers\\storvsc.sys');
  assert.match(s.info ?? '', /critical system driver is missing/);

  const sac = readSerialLog('SAC>\r\nEVENT: The CMD command is now available.\r\nSAC>cmd\r\n');
  assert.equal(sac.stopCode, null);
  assert.equal(sac.path, null);
});

test('stop-code knowledge base: the REFERENCE.md §1.5 codes and issue 8 siblings, each with meaning and playbooks', () => {
  for (const code of [0xc0000102, 0xc000007b, 0xc0000221, 0xc0000428, 0xc000014c, 0xc0000011, 0xc0000098]) {
    const e = lookupStopCode(code);
    assert.ok(e, formatStopCode(code));
    assert.ok(e.meaning.length > 20 && e.playbooks.length > 0 && e.source.length > 0);
    assert.equal(e.likelyCause, e.likelyCauses[0]);
  }
  assert.equal(lookupStopCode(0xc0000102)?.name, 'STATUS_FILE_CORRUPT_ERROR');
  assert.deepEqual(lookupStopCode(0xc0000102)?.playbooks.slice(0, 2), ['check-disk', 'replace-file']);
  assert.equal(lookupStopCode(0xc0000102)?.likelyCause, 'corrupt-structure');
  assert.equal(lookupStopCode(0xc000007b)?.likelyCause, 'corrupt-file');
  assert.equal(lookupStopCode(0xc0000428)?.likelyCause, 'signature');
  assert.ok(!lookupStopCode(0xc0000221)?.playbooks.includes('replace-file')); // §1.5: "Not the WinSxS copy"
  assert.equal(formatStopCode(0xc0000102), '0xC0000102');
});

test('snapPath: OCR-damaged names snap to the fixture tree; unrelated names do not', () => {
  const { manifest } = planWindowsTree({ flavour: 'synthetic', hives: { system: new Uint8Array(4096) } });
  const onDisk = manifest.files.map((f) => f.path.replace(/\//g, '\\'));
  assert.ok(onDisk.length > 100);
  for (const d of manifest.drivers) {
    const real = d.path.replace(/\//g, '\\');
    const damaged = real
      .toUpperCase()
      .replace(/I/g, 'l')
      .replace(/O/g, '0')
      .replace(/S(?=[^\\]*$)/, '5');
    assert.equal(snapPath(damaged, onDisk), real, damaged);
  }
  assert.equal(
    snapPath('\\Windows\\System32\\drivers\\dlsk.5ys', onDisk),
    '\\Windows\\System32\\drivers\\disk.sys',
  );
  assert.equal(snapPath('\\Windows\\System32\\drivers\\nothere.sys', onDisk), null);
  assert.equal(
    snapPath('\\Windows\\System32\\config\\SYSTEM', onDisk),
    '\\Windows\\System32\\config\\SYSTEM',
  );
  assert.equal(snapPath('\\x', []), null);
});

test('codes are snapped to the knowledge base only across look-alike digits, and only when unambiguous', () => {
  assert.equal(parseSymptomText('Status: 0xc0009102').stopCode, 0xc0000102); // 0↔9
  assert.equal(parseSymptomText('Status: 0xc0e001dc').stopCode, 0xc000014c); // 0↔e, 4↔d
  assert.equal(parseSymptomText('Status: 0xc000221').stopCode, 0xc0000221); // a merged zero
  assert.equal(parseSymptomText('Status: 0xc000000e').stopCode, 0xc000000e); // a real code, left alone
  assert.equal(parseSymptomText('Status: 0xc0000034').stopCode, 0xc0000034);
  assert.equal(parseSymptomText('Status: 0xc0000103').stopCode, 0xc0000103); // 3 is no look-alike of 2
  assert.ok(
    parseSymptomText('Status: 0xc0009102').confidence < parseSymptomText('Status: 0xc0000102').confidence,
  );
});

test('paths: a backslash read as a letter, a dropped dot, a stray quote are repaired without a disk', () => {
  const p = (t: string): string | null => parseSymptomText(`File: ${t}\nStatus: 0xc0000102`).path;
  assert.equal(p('\\Windows\\System32\\driversicng.sys'), '\\Windows\\System32\\drivers\\cng.sys');
  assert.equal(p('\\‘Windows\\system32shal.dll'), '\\Windows\\system32\\hal.dll');
  assert.equal(p('\\Windows\\System32\\drivers\\acpisys'), '\\Windows\\System32\\drivers\\acpi.sys');
  assert.equal(p('\\Windows\\systen32\\winload.exe'), '\\Windows\\system32\\winload.exe');
  assert.equal(p('\\Windows\\System32\\drivers\\CLFS.SYS'), '\\Windows\\System32\\drivers\\CLFS.SYS'); // case kept
  assert.equal(p('\\Windows\\System32\\config\\SYSTEM'), '\\Windows\\System32\\config\\SYSTEM');
  assert.equal(p('\\Boot\\BCD'), '\\Boot\\BCD');
});

test('paths: a run-together word is not split at a letter that may be its own', () => {
  const p = (t: string): string | null => parseSymptomText(`File: ${t}\nStatus: 0xc0000102`).path;
  assert.equal(p('\\Windowssystem32\\hal.dll'), '\\Windowssystem32\\hal.dll');
  assert.equal(p('\\Windows\\System32\\DriverStore\\x.sys'), '\\Windows\\System32\\DriverStore\\x.sys');
});

test('paths: a stray capital in a well-known directory is fixed, uniform case is kept', () => {
  const p = (t: string): string | null => parseSymptomText(`File: ${t}\nStatus: 0xc0000102`).path;
  assert.equal(p('\\WIndows\\System32\\drivers\\volmgr.sys'), '\\Windows\\System32\\drivers\\volmgr.sys');
  assert.equal(p('\\WINDOWS\\system32\\drivers\\x.sys'), '\\WINDOWS\\system32\\drivers\\x.sys');
});

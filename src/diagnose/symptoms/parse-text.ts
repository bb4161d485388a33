// The pure parser behind the screenshot and serial-log readers.
// Screen texts: ../shared/docs/REFERENCE.md §3 — "match case-insensitively on (Status|Error code):\s*0x[0-9a-f]{8}
// and File:\s*(\\\S+)", made tolerant here of what OCR does to them (O/0, I/l/1/|, S/5, B/8, case, wrapped lines).

import { STOP_CODES } from '../stop-codes.js';
import type { Symptom, SymptomKind } from './types.js';

/** Hex digits a blurred or noisy screen turns into one another; a code one such slip from a known code is that code. */
const DIGIT_LOOKALIKES: ReadonlyArray<readonly [string, string]> = [
  ['0', '9'],
  ['0', '8'],
  ['0', '6'],
  ['0', 'd'],
  ['0', 'e'],
  ['0', 'c'],
  ['8', 'b'],
  ['6', 'b'],
  ['1', '7'],
  ['1', '4'],
  ['4', 'd'],
  ['2', '7'],
  ['c', 'e'],
  ['5', '6'],
  ['3', '8'],
];

function lookalike(a: string, b: string): boolean {
  return DIGIT_LOOKALIKES.some(([x, y]) => (a === x && b === y) || (a === y && b === x));
}

/**
 * Look-alike digits a known code may differ by and still be taken for it. Two, because the 8×16 font under blur
 * reads 0xc000014c as 0xc0e001dc (0→e, 4→d); a third slip is too many to be sure.
 */
const MAX_DIGIT_SLIPS = 2;

/** A code that is not in the knowledge base but a look-alike digit or two away from exactly one that is. */
function snapToKnownCode(code: number): number | null {
  if (STOP_CODES.has(code)) return null;
  const h = code.toString(16).padStart(8, '0');
  const near = [...STOP_CODES.keys()].filter((k) => {
    const kh = k.toString(16).padStart(8, '0');
    let diff = 0;
    for (let i = 0; i < 8; i++) {
      if (kh[i] === h[i]) continue;
      if (!lookalike(kh[i] as string, h[i] as string)) return false;
      diff++;
    }
    return diff >= 1 && diff <= MAX_DIGIT_SLIPS;
  });
  return near.length === 1 ? (near[0] as number) : null;
}

/** An NTSTATUS is 8 hex digits after 0x. */
const STATUS_DIGITS = 8;
/** OCR of a code may break it with a few stray spaces; a label is never further from its value than this. */
const MAX_CODE_SPAN = 16;
/** Error-severity NTSTATUS values start with 0xC; OCR turns that C into these. */
const SEVERITY_C_LOOKALIKES = new Set(['c', 'e', 'o', '(', '<', 'g']);

/** OCR look-alikes of hex digits. Only non-hex characters are mapped: a read hex digit is taken as read. */
const HEX_LOOKALIKE: Readonly<Record<string, string>> = {
  o: '0',
  O: '0',
  Q: '0',
  I: '1',
  l: '1',
  i: '1',
  '|': '1',
  '!': '1',
  ']': '1',
  '[': '1',
  L: '1',
  S: '5',
  s: '5',
  Z: '2',
  z: '2',
  G: '6',
  T: '7',
  g: '9',
  q: '9',
};

/** Strip what a serial console adds: ANSI/VT100 escapes, carriage returns, NULs. */
export function cleanConsoleText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b[()][A-Za-z0-9]/g, '')
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '')
  );
}

/** Lowercase, OCR look-alikes folded together, only letters left: for fuzzy keyword tests. */
export function foldForMatch(s: string): string {
  return s
    .toLowerCase()
    .replace(/[0]/g, 'o')
    .replace(/[1|!l]/g, 'i')
    .replace(/5/g, 's')
    .replace(/rn/g, 'm')
    .replace(/[^a-z]/g, '');
}

interface CodeMatch {
  readonly code: number;
  readonly text: string;
  /** Number of characters that had to be corrected. */
  readonly corrections: number;
  readonly labelled: boolean;
}

/** Decode the characters after a label as 0x + 8 hex digits, correcting OCR look-alikes. */
function decodeCode(raw: string): { code: number; corrections: number; used: number } | null {
  let i = 0;
  let corrections = 0;
  const s = raw;
  const skipSpace = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  skipSpace();
  // "0x" prefix: OCR gives 0x, Ox, ox, Qx, 0×, 0 x, or drops the 0.
  const zero = s[i];
  // Before the x anything round is the 0: the 8×16 font's dotted zero comes back as 9, 6, e, @ or é.
  if (
    zero !== undefined &&
    '0OoQéèøØ@69eD'.includes(zero) &&
    'xX×*%'.includes(s.slice(i + 1).trimStart()[0] ?? '')
  ) {
    if (zero !== '0') corrections++;
    i++;
    skipSpace();
  } else corrections++;
  const x = s[i];
  if (x !== undefined && 'xX×*%'.includes(x)) {
    if (x !== 'x' && x !== 'X') corrections++;
    i++;
  } else return null;
  let digits = '';
  while (i < s.length && digits.length < STATUS_DIGITS && i < MAX_CODE_SPAN + 4) {
    const c = s[i] as string;
    i++;
    if (c === ' ') continue;
    if (/[0-9a-fA-F]/.test(c)) {
      digits += c.toLowerCase();
      continue;
    }
    const mapped = HEX_LOOKALIKE[c];
    if (mapped === undefined) break;
    digits += mapped;
    corrections++;
  }
  if (digits.length === STATUS_DIGITS - 1) {
    // OCR merges runs of zeros ("0xc000221"): accept the one known code that a single inserted 0 gives.
    const known = new Set<number>();
    for (let k = 1; k < digits.length; k++) {
      const c = parseInt(digits.slice(0, k) + '0' + digits.slice(k), 16) >>> 0;
      if (STOP_CODES.has(c)) known.add(c);
    }
    if (known.size !== 1) return null;
    return { code: [...known][0] as number, corrections: corrections + 2, used: i };
  }
  if (digits.length !== STATUS_DIGITS) return null;
  const first = digits[0] as string;
  if (first !== 'c' && SEVERITY_C_LOOKALIKES.has(first === '0' ? 'o' : first)) {
    digits = 'c' + digits.slice(1);
    corrections++;
  }
  const code = parseInt(digits, 16) >>> 0;
  const snapped = snapToKnownCode(code);
  return { code: snapped ?? code, corrections: corrections + (snapped === null ? 0 : 2), used: i };
}

const CODE_LABEL = /(?:status|error\s*c[o0]de|st[o0]p\s*c[o0]de)\s*[:;.,]?/gi;
const BARE_CODE = /(?:^|[^0-9a-z])([0OoQ]\s?[xX×]\s?[0-9a-zA-Z|!\][ ]{8,12})/g;

function findCode(text: string): CodeMatch | null {
  for (const m of text.matchAll(CODE_LABEL)) {
    const start = (m.index ?? 0) + m[0].length;
    const span = text.slice(start, start + MAX_CODE_SPAN + 4).split('\n')[0] ?? '';
    const d = decodeCode(span);
    if (d)
      return { code: d.code, text: span.slice(0, d.used).trim(), corrections: d.corrections, labelled: true };
  }
  for (const m of text.matchAll(BARE_CODE)) {
    const span = m[1] ?? '';
    const d = decodeCode(span);
    if (d && d.code >>> 28 === 0xc) {
      return {
        code: d.code,
        text: span.slice(0, d.used).trim(),
        corrections: d.corrections,
        labelled: false,
      };
    }
  }
  return null;
}

const FILE_LABEL = /(?:^|[^a-z])(?:fi[l1iI|]e|fiie|flle)\s*[:;.,]\s*/gi;
/** Lines that follow the File line on both screens: the path has ended when one begins. */
const NEXT_LABEL = /^\s*(?:status|error|info|choose|press|enter|esc|you|the |windows)/i;
/** A boot path ends in a file name with an extension, or is a bare store name such as \Boot\BCD. */
const COMPLETE_PATH = /\.[a-z0-9]{2,4}$|\\bcd$|\\system$|\\software$|\\sam$|\\security$|\\default$/i;
/** Extensions OCR tends to garble, fixed only at the very end of a path. */
const EXTENSION_FIXES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\.(?:5y5|sy5|5ys|svs|sys)$/i, '.sys'],
  [/\.(?:exe|exc|cxe|ex€)$/i, '.exe'],
  [/\.(?:d[l1I|][l1I|])$/i, '.dll'],
  [/\.(?:efi|cfi|ef1)$/i, '.efi'],
  [/\.(?:n[l1I|]s)$/i, '.nls'],
  [/\.(?:mui|mu1)$/i, '.mui'],
];

/** Directory names on every boot path: an OCR'd segment this close to one is that one. */
const KNOWN_SEGMENTS = [
  'Windows',
  'System32',
  'drivers',
  'config',
  'DriverStore',
  'FileRepository',
  'WinSxS',
];
/** Same length, at most this many letters differ (case aside). */
const MAX_SEGMENT_SLIPS = 2;
const MIN_SEGMENT_LENGTH = 6;

/** Fix the letters of a well-known directory name that OCR got wrong, keeping the case it read elsewhere. */
function fixKnownSegments(p: string): string {
  const parts = p.split('\\');
  for (let i = 1; i < parts.length - 1; i++) {
    const seg = parts[i] as string;
    for (const known of KNOWN_SEGMENTS) {
      if (known.length !== seg.length || known.length < MIN_SEGMENT_LENGTH) continue;
      let slips = 0;
      for (let k = 0; k < seg.length; k++) if (seg[k]?.toLowerCase() !== known[k]?.toLowerCase()) slips++;
      if (slips === 0) {
        // Same letters: keep an all-upper or all-lower spelling (both occur), fix a stray capital (WIndows).
        const uniform = seg === seg.toUpperCase() || seg === seg.toLowerCase();
        if (!uniform && seg !== known) parts[i] = known;
        break;
      }
      if (slips > MAX_SEGMENT_SLIPS) continue;
      let fixed = '';
      for (let k = 0; k < seg.length; k++) {
        const a = seg[k] as string;
        const b = known[k] as string;
        fixed += a.toLowerCase() === b.toLowerCase() ? a : b;
      }
      parts[i] = fixed;
      break;
    }
  }
  return parts.join('\\');
}

/** Directory names after which OCR tends to read the following backslash as a letter (`driversicng.sys`). */
const SPLITTABLE_DIRS = ['drivers', 'system32', 'windows', 'config'];
const BACKSLASH_AS_LETTER = 'il1|s';
/** The rest must still be a plausible file name, not just a suffix of a longer directory name. */
const MIN_SPLIT_REST = 3;

function splitRunTogether(p: string): string {
  const parts = p.split('\\');
  const out: string[] = [];
  for (const seg of parts) {
    const lower = seg.toLowerCase();
    const dir = SPLITTABLE_DIRS.find(
      (d) =>
        lower.startsWith(d) &&
        lower.length >= d.length + 1 + MIN_SPLIT_REST &&
        // 's' only after a digit: after a word it may be the word going on (Windowssystem32 is a lost backslash).
        BACKSLASH_AS_LETTER.replace(/s$/, /\d$/.test(d) ? 's' : '').includes(lower[d.length] as string),
    );
    if (dir) out.push(seg.slice(0, dir.length), seg.slice(dir.length + 1));
    else out.push(seg);
  }
  return out.join('\\');
}

/** `acpisys` → `acpi.sys`: the dot is the glyph OCR drops most. */
function fixMissingDot(p: string): string {
  const cut = p.lastIndexOf('\\');
  const name = p.slice(cut + 1);
  if (name.includes('.')) return p;
  const m = /^(.{2,})(sys|exe|dll|efi)$/i.exec(name);
  return m ? p.slice(0, cut + 1) + m[1] + '.' + m[2] : p;
}

/** Normalise an OCR'd path: separators, spaces, extension. Keeps the letters' case as read. */
export function normalisePath(raw: string): string {
  let p = raw.trim().replace(/[/|¥₩]/g, '\\');
  p = p.replace(/\s+/g, '');
  p = p.replace(/\\{2,}/g, '\\');
  p = p.replace(/[.,;:'"`)\]]+$/, '');
  if (!p.startsWith('\\')) p = '\\' + p;
  for (const [re, ext] of EXTENSION_FIXES) {
    const m = re.exec(p);
    if (m) {
      if (m[0].toLowerCase() !== ext) p = p.slice(0, m.index) + ext;
      break;
    }
  }
  return fixMissingDot(fixKnownSegments(splitRunTogether(p.replace(/\\[‘’'`"]+/g, '\\'))));
}

/** On a one-line rendering the next field follows the path after a single space. */
function cutAtNextField(s: string): string {
  let out = s.split(/\s(?:status|error\s*c[o0]de|info)\b/i)[0] ?? s;
  out = out.split(/\s{2,}/)[0] ?? out;
  const afterExt = /\.[a-z0-9]{3}(?=\s+\S)/i.exec(out);
  if (afterExt) out = out.slice(0, afterExt.index + afterExt[0].length);
  return out;
}

function findPath(lines: readonly string[]): { path: string; corrected: boolean } | null {
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li] as string;
    FILE_LABEL.lastIndex = 0;
    const m = FILE_LABEL.exec(line);
    if (!m) continue;
    let raw = line.slice((m.index ?? 0) + m[0].length);
    if (raw.trim() === '' && li + 1 < lines.length) raw = lines[++li] as string;
    // A path longer than the screen wraps onto the next line.
    let joined = raw.trim();
    while (!COMPLETE_PATH.test(joined.replace(/\s+/g, '')) && li + 1 < lines.length) {
      const next = (lines[li + 1] as string).trim();
      if (next === '' || NEXT_LABEL.test(next) || /\s\S+\s\S+\s/.test(next)) break;
      joined += next;
      li++;
    }
    const token = cutAtNextField(joined);
    const path = normalisePath(token);
    if (path.length < 2) continue;
    return { path, corrected: path !== token.trim() };
  }
  return null;
}

const INFO_LABEL = /^\s*info\s*[:;.]\s*/i;

function findInfo(lines: readonly string[]): string | null {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (INFO_LABEL.test(line)) {
      let info = line.replace(INFO_LABEL, '').trim();
      for (let j = i + 1; j < lines.length; j++) {
        const next = (lines[j] as string).trim();
        if (next === '' || /^(enter|esc|press)/i.test(next) || /=/.test(next)) break;
        info += ' ' + next;
      }
      return info;
    }
    if (/couldn.?t be loaded|failed to load|cannot verify|missing or contains errors/i.test(line)) {
      let info = line.trim();
      const next = (lines[i + 1] ?? '').trim();
      if (next !== '' && !/^(fi[l1i]e|error|status)/i.test(next) && !/[.]$/.test(info)) info += ' ' + next;
      return info;
    }
  }
  return null;
}

function detectKind(text: string, folded: string): SymptomKind {
  const has = (k: string): boolean => folded.includes(foldForMatch(k));
  const bootManager =
    Number(has('Windows Boot Manager')) +
    Number(has('Windows failed to start')) +
    Number(has('ENTER=OS Selection') || has('ENTER=Continue')) +
    Number(has('Insert your Windows installation disc')) +
    // The field labels alone tell the screens apart when OCR has garbled the prose around them.
    Number(/(^|\n)\s*status\s*[:;]/i.test(text));
  const recovery =
    Number(has('needs to be repaired')) +
    Number(has('Press Esc for recovery') || has('Press Enter to try again')) +
    Number(/(^|\n)\s*error\s*c[o0]de\s*[:;]/i.test(text)) +
    Number(has('Startup Settings'));
  if (bootManager === 0 && recovery === 0) return 'unknown';
  return bootManager >= recovery ? 'boot-manager' : 'recovery';
}

/** Parse the text of a boot error screen (OCR'd or from a serial console). Pure; never throws. */
export function parseSymptomText(text: string): Symptom {
  const clean = cleanConsoleText(text);
  const lines = clean.split('\n');
  const code = findCode(clean);
  const path = findPath(lines);
  const kind = detectKind(clean, foldForMatch(clean));
  let confidence = 1;
  if (!code) confidence *= 0.5;
  else {
    confidence *= Math.pow(0.9, code.corrections);
    if (!code.labelled) confidence *= 0.8;
  }
  if (!path) confidence *= 0.7;
  else if (path.corrected) confidence *= 0.95;
  if (kind === 'unknown') confidence *= 0.8;
  return {
    kind,
    stopCode: code ? code.code : null,
    stopCodeText: code ? code.text : null,
    path: path ? path.path : null,
    info: findInfo(lines),
    rawText: text,
    confidence: Math.round(confidence * 1000) / 1000,
  };
}

// Generated boot-error screenshots with known code and path, laid out after ../shared/docs/REFERENCE.md §3:
// A, the text-mode Windows Boot Manager screen (80 columns of the 8×16 VGA-like Unifont, grey on black, white
// header/footer bars); B, the blue Recovery screen (proportional Helvetica from xfonts-100dpi, white on blue).

import { HELVETICA_DIR, loadPcf, loadUnifont, type BitmapFont } from './fonts.js';
import { Raster, type Rgb } from './raster.js';

export type ScreenKind = 'boot-manager' | 'recovery';
export type ImageFormat = 'bmp' | 'png';

export interface ScreenCase {
  readonly id: number;
  readonly kind: ScreenKind;
  readonly width: number;
  readonly height: number;
  readonly code: number;
  readonly path: string;
  readonly blur: number;
  readonly noise: number;
  /** Simulated JPEG quality, or 0 for none. */
  readonly jpeg: number;
  readonly format: ImageFormat;
}

const INFO_BY_PATH: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /drivers\\/i,
    "The operating system couldn't be loaded because a critical system driver is missing or contains errors.",
  ],
  [/ntoskrnl/i, "The operating system couldn't be loaded because the kernel is missing or contains errors."],
  [
    /config\\/i,
    "The operating system couldn't be loaded because the system registry file is missing or contains errors.",
  ],
  [
    /./,
    "The application or operating system couldn't be loaded because a required file is missing or contains errors.",
  ],
];

function infoFor(path: string): string {
  return (INFO_BY_PATH.find(([re]) => re.test(path)) ?? INFO_BY_PATH[3])?.[1] ?? '';
}

function wrap(text: string, fits: (s: string) => boolean): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    const next = cur === '' ? word : cur + ' ' + word;
    if (fits(next) || cur === '') cur = next;
    else {
      lines.push(cur);
      cur = word;
    }
  }
  if (cur !== '') lines.push(cur);
  return lines;
}

const hex = (code: number): string => '0x' + (code >>> 0).toString(16).padStart(8, '0');

let unifont: BitmapFont | undefined;
const helv = new Map<string, BitmapFont>();
function helvetica(size: string): BitmapFont {
  let f = helv.get(size);
  if (!f) {
    f = loadPcf(`${HELVETICA_DIR}/helvR${size}.pcf.gz`);
    helv.set(size, f);
  }
  return f;
}

const GREY: Rgb = [170, 170, 170];
const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const RECOVERY_BLUE: Rgb = [0, 84, 166];

function drawBootManager(r: Raster, c: ScreenCase): void {
  unifont ??= loadUnifont();
  const f = unifont;
  const cols = Math.min(80, Math.floor(r.width / 8));
  const line = (row: number, text: string, colour: Rgb = GREY): void => {
    r.text(f, text, 0, row * 16 + 14, colour);
  };
  r.fillRect(0, 0, cols * 8, 16, GREY);
  line(0, '                              Windows Boot Manager', BLACK);
  line(2, 'Windows failed to start. A recent hardware or software change might be the');
  line(3, 'cause. To fix the problem:');
  line(5, '  1. Insert your Windows installation disc and restart your computer.');
  line(6, '  2. Choose your language settings, and then click "Next."');
  line(7, '  3. Click "Repair your computer."');
  line(9, 'If you do not have this disc, contact your system administrator or computer');
  line(10, 'manufacturer for assistance.');
  // The path wraps at the 80th column like any console text.
  const file = `    File: ${c.path}`;
  let row = 13;
  for (let i = 0; i < file.length; i += cols) line(row++, file.slice(i, i + cols), WHITE);
  row++;
  line(row, `    Status: ${hex(c.code)}`, WHITE);
  row += 2;
  const info = wrap(infoFor(c.path), (s) => s.length <= cols - 10);
  info.forEach((t, i) => line(row + i, (i === 0 ? '    Info: ' : '          ') + t));
  const bottom = Math.floor(r.height / 16) - 1;
  const footerRow = Math.min(bottom, 24);
  r.fillRect(0, footerRow * 16, cols * 8, 16, GREY);
  line(footerRow, 'ENTER=OS Selection' + ' '.repeat(cols - 30) + 'ESC=Recovery', BLACK);
}

function drawRecovery(r: Raster, c: ScreenCase): void {
  const big = r.width >= 1024 ? '24' : r.width >= 800 ? '18' : '14';
  const body = r.width >= 1024 ? '18' : r.width >= 800 ? '14' : '12';
  const title = helvetica(big);
  const text = helvetica(body);
  const margin = Math.round(r.width * 0.1);
  const usable = r.width - 2 * margin;
  const lh = text.ascent + text.descent + 4;
  let y = Math.round(r.height * 0.12) + title.ascent;
  r.text(title, 'Recovery', margin, y, WHITE);
  y += title.ascent + title.descent + 12;
  r.text(title, 'Your PC/Device needs to be repaired', margin, y, WHITE);
  y += title.ascent + title.descent + 16;
  for (const l of wrap(infoFor(c.path), (s) => r.measure(text, s) <= usable)) {
    r.text(text, l, margin, y, WHITE);
    y += lh;
  }
  y += lh;
  for (const l of wrap(`File: ${c.path}`, (s) => r.measure(text, s) <= usable)) {
    r.text(text, l, margin, y, WHITE);
    y += lh;
  }
  r.text(text, `Error code: ${hex(c.code)}`, margin, y, WHITE);
  y += 2 * lh;
  r.text(text, 'Choose one of the options below to address this problem.', margin, y, WHITE);
  y += 2 * lh;
  for (const l of ['Press Esc for recovery', 'Press Enter to try again', 'Press F8 for Startup Settings']) {
    r.text(text, l, margin, y, WHITE);
    y += lh;
  }
}

/** A small deterministic generator (mulberry32) so every run renders the same images. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function renderScreen(c: ScreenCase): Uint8Array {
  const r = new Raster(c.width, c.height, c.kind === 'recovery' ? RECOVERY_BLUE : BLACK);
  if (c.kind === 'recovery') drawRecovery(r, c);
  else drawBootManager(r, c);
  r.boxBlur(c.blur);
  if (c.jpeg > 0) r.jpegArtefacts(c.jpeg);
  if (c.noise > 0) r.noise(c.noise, seeded(c.id * 7919 + 1));
  return c.format === 'bmp' ? r.toBmp() : r.toPng();
}

export const SCREEN_PATHS: readonly string[] = [
  '\\Windows\\System32\\drivers\\cng.sys',
  '\\Windows\\system32\\winload.exe',
  '\\Windows\\System32\\config\\SYSTEM',
  '\\Windows\\System32\\drivers\\storvsc.sys',
  '\\Windows\\System32\\drivers\\vmbus.sys',
  '\\Windows\\system32\\ntoskrnl.exe',
  '\\Windows\\System32\\drivers\\netvsc.sys',
  '\\Windows\\System32\\drivers\\disk.sys',
  '\\Windows\\System32\\drivers\\volmgr.sys',
  '\\Windows\\System32\\drivers\\Wdf01000.sys',
  '\\Windows\\System32\\drivers\\acpi.sys',
  '\\Windows\\System32\\drivers\\ntfs.sys',
  '\\Windows\\System32\\drivers\\CLFS.SYS',
  '\\Windows\\system32\\hal.dll',
  '\\Windows\\System32\\drivers\\pci.sys',
  '\\Windows\\System32\\drivers\\partmgr.sys',
  '\\Windows\\system32\\boot\\winload.exe',
  '\\Windows\\System32\\drivers\\fltMgr.sys',
  '\\Windows\\System32\\drivers\\ksecdd.sys',
  '\\Windows\\System32\\drivers\\msrpc.sys',
];

/** ≥ 50 cases: both kinds × three resolutions, codes from the KB, blur, noise and JPEG artefacts varied. */
export function screenCases(codes: readonly number[], count = 54): ScreenCase[] {
  const sizes: ReadonlyArray<readonly [number, number]> = [
    [640, 480],
    [800, 600],
    [1024, 768],
  ];
  const rand = seeded(20261124);
  const out: ScreenCase[] = [];
  for (let id = 0; id < count; id++) {
    const kind: ScreenKind = id % 2 === 0 ? 'boot-manager' : 'recovery';
    const [width, height] = sizes[Math.floor(id / 2) % 3] as readonly [number, number];
    const variant = id % 6;
    out.push({
      id,
      kind,
      width,
      height,
      code: codes[id % codes.length] as number,
      path: SCREEN_PATHS[Math.floor(rand() * SCREEN_PATHS.length)] as string,
      blur: variant === 1 || variant === 4 ? 1 : 0,
      noise: variant >= 3 ? 6 : 0,
      jpeg: variant === 2 || variant === 5 ? 60 : 0,
      format: id % 3 === 0 ? 'png' : 'bmp',
    });
  }
  return out;
}

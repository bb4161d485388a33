// hivexregedit's .reg export parsed into comparable (key, value) tuples: the independent oracle for hive contents.
import { execFileSync } from 'node:child_process';

/** One comparable string per value: path, name, type and data as hex. */
export const tupleKey = (path: string, name: string, type: number, hex: string): string =>
  `${path}\u0000${name}\u0000${(type >>> 0).toString(16)}\u0000${hex}`;

export function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export interface ParsedReg {
  /** Key paths as printed (`\`, `\A\B`). */
  readonly keys: Set<string>;
  /** tupleKey strings, one per value, in export order. */
  readonly values: string[];
  /** Key paths in export order (hivex prints children in subkey-list order). */
  readonly order: string[];
}

/** Parse a .reg text in hivexregedit `--export --prefix ''` style. */
export function parseReg(text: string): ParsedReg {
  const keys = new Set<string>();
  const values: string[] = [];
  const order: string[] = [];
  let path = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('[') && line.endsWith(']')) {
      path = line.slice(1, -1);
      keys.add(path);
      order.push(path);
      continue;
    }
    let m = /^(@|"((?:[^"\\]|\\.)*)")=(.*)$/s.exec(line);
    if (!m) continue;
    const name = m[1] === '@' ? '' : m[2]!.replace(/\\(.)/g, '$1');
    const rhs = m[3]!;
    if ((m = /^dword:([0-9a-f]{8})$/.exec(rhs))) {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(parseInt(m[1]!, 16));
      values.push(tupleKey(path, name, 4, b.toString('hex')));
    } else if ((m = /^hex\(([0-9a-f]+)\):(.*)$/.exec(rhs))) {
      values.push(tupleKey(path, name, parseInt(m[1]!, 16), m[2]!.replace(/,/g, '')));
    } else {
      throw new Error(`unparsed .reg line: ${line.slice(0, 80)}`);
    }
  }
  return { keys, values, order };
}

/**
 * hivexregedit's export of `key` (default the root). PERL_UNICODE=O makes Perl print every line as UTF-8:
 * without it, a line whose characters all fit Latin-1 comes out as Latin-1 bytes and one with wider characters as UTF-8.
 */
export function hivexExport(file: string, key = '\\'): string {
  return execFileSync('hivexregedit', ['--export', '--prefix', '', file, key], {
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PERL_UNICODE: 'O' },
  }).toString('utf8');
}

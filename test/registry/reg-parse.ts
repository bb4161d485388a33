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

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (all, e: string) =>
    e[0] !== '#'
      ? (XML_ENTITIES[e] ?? all)
      : String.fromCodePoint(
          e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10),
        ),
  );
}

/**
 * Subkey names of `keyPath` (components below the root) in the order hivex walks the hive's subkey lists:
 * hivexml keeps list order, while hivexregedit sorts its output itself.
 */
export function hivexmlChildren(file: string, keyPath: readonly string[]): string[] {
  // hivexml opens /dev/stdout, which fails on the socket Node gives a child: give it a real pipe through sh.
  const xml = execFileSync('sh', ['-c', 'hivexml "$1" | cat', 'sh', file], {
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString('utf8');
  const target = keyPath.join('\u0000');
  const stack: string[] = [];
  const out: string[] = [];
  for (const m of xml.matchAll(/<node name="([^"]*)"[^>]*?(\/?)>|<\/node>/g)) {
    if (m[0] === '</node>') {
      stack.pop();
      continue;
    }
    const name = unescapeXml(m[1]!);
    // stack[0] is the root node, whose own name is not part of key paths.
    if (stack.length > 0 && stack.slice(1).join('\u0000') === target) out.push(name);
    stack.push(name);
    if (m[2] === '/') stack.pop();
  }
  return out;
}

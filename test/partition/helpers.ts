// Oracles for the partition tests: disk images laid out by sfdisk (or util-linux fdisk for 4096-byte sectors,
// which sfdisk 2.38 cannot do), and their partitions as sfdisk / fdisk / mmls list them, in bytes.
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { run, runStatus } from '../helpers/tools.js';
import type { Partition } from '../../src/partition/index.js';

export interface Expected {
  index: number;
  start: number;
  size: number;
  type: string;
  guid?: string;
  name?: string;
  bootable?: true;
}

export interface OracleTable {
  label: 'dos' | 'gpt';
  id: string;
  sectorSize: number;
  partitions: Expected[];
}

/** A sparse image of `mib` MiB laid out by an sfdisk script (sector size 512). */
export function sfdiskImage(dir: string, name: string, mib: number, script: string): string {
  const path = join(dir, name);
  sparse(path, mib * 1024 * 1024);
  run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', path], { input: script });
  return path;
}

/** The same, with 4096-byte logical sectors: fdisk -b 4096 loads the sfdisk script with its `I` command. */
export function fdisk4kImage(dir: string, name: string, mib: number, script: string): string {
  const path = join(dir, name);
  sparse(path, mib * 1024 * 1024);
  const scriptPath = `${path}.sfdisk`;
  writeFileSync(scriptPath, script);
  run('fdisk', ['-b', '4096', path], { input: `I\n${scriptPath}\nw\n` });
  return path;
}

export function sparse(path: string, bytes: number): void {
  run('truncate', ['-s', String(bytes), path]);
}

const indexOfNode = (node: string): number => Number(/(\d+)$/.exec(node)![1]);

function typeOf(label: string, t: string): string {
  return label === 'dos' ? '0x' + t.toLowerCase().padStart(2, '0') : t.toLowerCase();
}

/** `sfdisk --json IMG`, converted to bytes and our spelling of types and GUIDs. */
export function sfdiskJson(path: string): OracleTable {
  // sfdisk may print a notice before the JSON (e.g. "Invalid flag 0x0000 of EBR ...").
  const out = run('sfdisk', ['--json', path]).toString();
  const pt = JSON.parse(out.slice(out.indexOf('{'))).partitiontable;
  const ss: number = pt.sectorsize;
  return {
    label: pt.label,
    id: String(pt.id).toLowerCase(),
    sectorSize: ss,
    partitions: (pt.partitions as Record<string, unknown>[]).map((p) => {
      const e: Expected = {
        index: indexOfNode(p.node as string),
        start: (p.start as number) * ss,
        size: (p.size as number) * ss,
        type: typeOf(pt.label, p.type as string),
      };
      if (p.uuid !== undefined) e.guid = (p.uuid as string).toLowerCase();
      if (p.name !== undefined) e.name = p.name as string;
      if (p.bootable === true) e.bootable = true;
      return e;
    }),
  };
}

/** stderr of `sfdisk --json`: where sfdisk says it fell back to a backup or found damage. */
export function sfdiskStderr(path: string): string {
  return runStatus('sfdisk', ['--json', path]).stderr;
}

/** The sfdisk-format dump that fdisk's `O` command writes (used for 4096-byte sectors). */
export function fdiskDump(path: string, sectorSize: number): OracleTable {
  const out = `${path}.dump`;
  run('fdisk', ['-b', String(sectorSize), path], { input: `O\n${out}\nq\n` });
  return parseDump(readFileSync(out, 'utf8'));
}

export function parseDump(text: string): OracleTable {
  const header = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(text)?.[1] ?? '';
  const label = header('label') as 'dos' | 'gpt';
  const ss = Number(header('sector-size') || 512);
  const partitions: Expected[] = [];
  for (const m of text.matchAll(/^(\S+) : (.*)$/gm)) {
    const fields = new Map<string, string>();
    for (const f of m[2]!.matchAll(/(\w+)=\s*("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
      fields.set(f[1]!, f[2]!.replace(/^"|"$/g, ''));
    }
    const e: Expected = {
      index: indexOfNode(m[1]!),
      start: Number(fields.get('start')) * ss,
      size: Number(fields.get('size')) * ss,
      type: typeOf(label, fields.get('type')!),
    };
    if (fields.has('uuid')) e.guid = fields.get('uuid')!.toLowerCase();
    if (fields.has('name')) e.name = fields.get('name')!;
    if (/\bbootable\b/.test(m[2]!)) e.bootable = true;
    partitions.push(e);
  }
  return { label, id: header('label-id').toLowerCase(), sectorSize: ss, partitions };
}

/** mmls' data rows (not Meta, not Unallocated) as byte [start, length] pairs, sorted. */
export function mmlsExtents(path: string, sectorSize = 512): [number, number][] {
  const text = run('mmls', ['-b', String(sectorSize), path]).toString();
  const rows: [number, number][] = [];
  for (const m of text.matchAll(/^\d+:\s+(\d+(?::\d+)?)\s+(\d+)\s+(\d+)\s+(\d+)\s/gm)) {
    rows.push([Number(m[2]) * sectorSize, Number(m[4]) * sectorSize]);
  }
  return rows.sort((a, b) => a[0] - b[0]);
}

/** Our partitions in the oracle's shape. */
export function ours(parts: readonly Partition[]): Expected[] {
  return parts.map((p) => {
    const e: Expected = { index: p.index, start: p.start, size: p.size, type: p.type };
    if (p.guid !== undefined) e.guid = p.guid;
    if (p.name !== undefined) e.name = p.name;
    if (p.bootable === true) e.bootable = true;
    return e;
  });
}

export const isCode =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof Error && (e as { code?: string }).code === code && e.name === 'WinrescueError';

/** Overwrites bytes of an image file in place (fault injection). */
export function patch(path: string, offset: number, bytes: Uint8Array | number[]): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

export function readBytes(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A sparse copy of an image, to damage without touching the original. */
export function copyImage(from: string, to: string): string {
  run('cp', ['--sparse=always', from, to]);
  return to;
}

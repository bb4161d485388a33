// `winrescue reg export|get|set`: registry hives as files or DISK:PATH, in regedit's .reg format and reg.exe's style.
import type { Command } from 'commander';
import type { RegValueView } from '../../api/reg.js';
import { encodeValue, parseTypeName } from '../../registry/value-data.js';
import { printJson, printLines, runCommand, warn } from '../output.js';
import { writeStdout } from './cat.js';
import { partitionOption } from './stat.js';

const HIVE_HELP =
  'a hive file (SYSTEM, BCD, ...) or DISK:PATH, e.g. disk.vhd:/Windows/System32/config/SYSTEM; ' +
  'NAME.LOG1/.LOG2 beside it are replayed in memory when the hive is dirty';
const KEY_HELP =
  'key path below the hive root, "\\" separated, case-insensitive (e.g. ControlSet001\\Control)';

/** `@` names the default (unnamed) value, as in .reg files. */
const valueNameArg = (name: string): string => (name === '@' ? '' : name);

interface PartitionOpt {
  partition?: number;
}

export function registerReg(program: Command): void {
  const reg = program
    .command('reg')
    .description(
      'read and change registry hives (SYSTEM, SOFTWARE, BCD) offline, dirty ones replayed from their logs',
    );

  reg
    .command('export')
    .description(
      'the hive (or one key with its subtree) as a regedit .reg file on stdout, hivexregedit-style paths',
    )
    .argument('<hive>', HIVE_HELP)
    .argument('[key]', `${KEY_HELP}; default: the whole hive`)
    .option('--partition <n>', 'for DISK:PATH: the volume (1-based, as inspect lists them)', partitionOption)
    .action(async (hive: string, key: string | undefined, opts: PartitionOpt) =>
      runCommand({}, async () => {
        const { regExport } = await import('../../api/reg.js');
        const r = await regExport(hive, {
          ...(key !== undefined ? { key } : {}),
          ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
        });
        for (const w of r.warnings) warn(w);
        await writeStdout(r.bytes);
      }),
    );

  reg
    .command('get')
    .description("a key's values and subkeys (or one value), like reg query")
    .argument('<hive>', HIVE_HELP)
    .argument('<key>', KEY_HELP)
    .argument('[value]', 'one value name; @ for the default value')
    .option('--partition <n>', 'for DISK:PATH: the volume (1-based, as inspect lists them)', partitionOption)
    .option('--json', 'one JSON document on stdout')
    .action(
      async (hive: string, key: string, value: string | undefined, opts: PartitionOpt & { json?: boolean }) =>
        runCommand(opts, async () => {
          const { regGet } = await import('../../api/reg.js');
          const r = await regGet(
            hive,
            key,
            value === undefined ? undefined : valueNameArg(value),
            opts.partition !== undefined ? { partition: opts.partition } : {},
          );
          if (opts.json) return printJson(r);
          for (const w of r.warnings) warn(w);
          const lines = [
            r.key,
            ...r.values.map(
              (v) => `    ${v.name === '' ? '(Default)' : v.name}    ${v.typeName}    ${shown(v)}`,
            ),
          ];
          if (r.subkeys.length > 0)
            lines.push('', ...r.subkeys.map((s) => `${r.key === '\\' ? '' : r.key}\\${s}`));
          printLines(lines);
        }),
    );

  reg
    .command('set')
    .description(
      'set one value (the key must exist unless --create-key); the original file is kept once as HIVE.winrescue-orig',
    )
    .argument('<hive>', 'a hive file, or DISK:PATH (written through the NTFS writer and the undo journal)')
    .argument('<key>', KEY_HELP)
    .argument('<value>', 'value name; @ for the default value')
    .argument(
      '<type>',
      'REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY, ... or a number',
    )
    .argument(
      '<data...>',
      'strings as text; MULTI_SZ one argument per item; DWORD/QWORD decimal or 0x hex; others hex bytes (01,a0,ff)',
    )
    .option('--create-key', 'create the key and its missing parents')
    .option('--dry-run', 'show old -> new, write nothing')
    .option('--force', 'write a dirty hive whose logs cannot be replayed (changes only in the logs are lost)')
    .option(
      '--backup <file>',
      'hive file: where to keep the original (default HIVE.winrescue-orig; never overwritten)',
    )
    .option('--journal <path>', 'DISK:PATH: the undo journal (default DISK.winrescue-undo)')
    .option(
      '--force-dirty-log',
      'DISK:PATH: write although the NTFS $LogFile is not clean (its transactions are lost)',
    )
    .option(
      '--force-hibernated',
      'DISK:PATH: write although Windows is hibernated (it must then never resume)',
    )
    .option('--json', 'one JSON document on stdout')
    .action(
      async (
        hive: string,
        key: string,
        value: string,
        type: string,
        data: string[],
        opts: {
          createKey?: boolean;
          dryRun?: boolean;
          force?: boolean;
          backup?: string;
          journal?: string;
          forceDirtyLog?: boolean;
          forceHibernated?: boolean;
          json?: boolean;
        },
      ) =>
        runCommand(opts, async () => {
          const t = parseTypeName(type);
          const { regSet } = await import('../../api/reg.js');
          const r = await regSet(hive, key, valueNameArg(value), t, encodeValue(t, data), {
            ...(opts.createKey ? { createKey: true } : {}),
            ...(opts.dryRun ? { dryRun: true } : {}),
            ...(opts.force ? { force: true } : {}),
            ...(opts.backup !== undefined ? { backup: opts.backup } : {}),
            ...(opts.journal !== undefined ? { journalPath: opts.journal } : {}),
            ...(opts.forceDirtyLog || opts.forceHibernated
              ? {
                  ntfsForce: {
                    ...(opts.forceDirtyLog ? { dirtyLog: true } : {}),
                    ...(opts.forceHibernated ? { hibernated: true } : {}),
                  },
                }
              : {}),
          });
          if (opts.json) return printJson(r);
          for (const w of r.warnings) warn(w);
          const name = `${r.key === '\\' ? '' : r.key}\\${r.name === '' ? '(Default)' : r.name}`;
          const old = r.old ? `${r.old.typeName} ${shown(r.old)}` : '(absent)';
          const outcome = !r.changed
            ? r.written
              ? 'unchanged; replayed hive saved clean'
              : 'unchanged, nothing written'
            : r.written
              ? r.undo
                ? `written; undo with: ${r.undo}`
                : `written; original kept as ${r.backup}`
              : 'dry run, nothing written';
          printLines([`${name}: ${old} -> ${r.new.typeName} ${shown(r.new)} (${outcome})`]);
        }),
    );
}

function shown(v: RegValueView): string {
  return v.text === '' && v.size === 0 ? '(zero-length)' : v.text;
}

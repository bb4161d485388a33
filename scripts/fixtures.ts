// npm run fixtures -- [gen1|gen2] [--flavour real|synthetic] [--formats raw,vhd,vhd-dynamic,vhdx] [--list]
// Builds (or finds in the cache) a fixture disk and prints where its files are. See docs/fixtures.md.
import { rmSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { isWinrescueError, WinrescueError } from '../src/errors.js';
import { buildDisk, type DiskFormat, type HiveProvider } from '../test/fixtures/factory.js';
import { buildManyFilesVolume } from '../test/fixtures/many-files.js';
import { FIXTURES_DIR, listCache } from '../test/fixtures/cache.js';

const FORMATS: readonly DiskFormat[] = ['raw', 'vhd', 'vhd-dynamic', 'vhdx'];

/** Opaque stand-in hives, for looking at synthetic disks before the registry writer exists. */
const STUB_HIVES: HiveProvider = {
  id: 'cli-stub-v1',
  provide: (ctx) => ({
    system: new TextEncoder().encode(`regf stub SYSTEM (${ctx.drivers.length} drivers)`),
    bcd: new TextEncoder().encode(`regf stub BCD gen${ctx.gen}`),
  }),
};

function parseFormats(v: string): DiskFormat[] {
  const list = v.split(',').map((s) => s.trim());
  for (const f of list) {
    if (!FORMATS.includes(f as DiskFormat))
      throw new InvalidArgumentError(`unknown format ${f} (${FORMATS.join(', ')})`);
  }
  return list as DiskFormat[];
}

function parseInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${v} is not a positive integer`);
  return n;
}

const program = new Command()
  .name('fixtures')
  .description('build winrescue test disks from scratch with Debian tools (cached)')
  .argument('[kind]', 'gen1, gen2 or many-files', 'gen1')
  .option('--flavour <flavour>', 'real (Microsoft files from ../shared/testdata) or synthetic', 'real')
  .option('--formats <list>', 'comma-separated: raw,vhd,vhd-dynamic,vhdx', parseFormats, [
    'raw',
  ] as DiskFormat[])
  .option('--cluster-size <bytes>', 'mkntfs -c for the Windows volume', parseInteger)
  .option('--sector-size <bytes>', 'mkntfs -s for the Windows volume', parseInteger)
  .option('--size <MiB>', 'Windows volume size in MiB', parseInteger)
  .option('--stub-hives', 'synthetic flavour: opaque placeholder hives instead of real ones')
  .option('--count <n>', 'many-files: number of files', parseInteger, 200_000)
  .option('--list', 'list the fixture cache and exit')
  .option('--clear', 'delete every cached fixture (keys and disks) and exit')
  .option('--json', 'print one JSON document')
  .action(async (kind: string, o) => {
    if (o.clear) {
      rmSync(FIXTURES_DIR, { recursive: true, force: true });
      console.log(`removed ${FIXTURES_DIR}`);
      return;
    }
    if (o.list) {
      const entries = listCache();
      if (o.json) console.log(JSON.stringify({ cache: FIXTURES_DIR, fixtures: entries }, null, 1));
      else {
        console.log(`cache: ${FIXTURES_DIR}`);
        for (const e of entries) console.log(`${e.key}\t${e.files.join(' ')}`);
      }
      return;
    }
    if (kind === 'many-files') {
      const v = await buildManyFilesVolume(o.count);
      const out = { dir: v.dir, image: v.image, count: v.manifest.count, seconds: v.manifest.seconds };
      console.log(
        o.json
          ? JSON.stringify(out, null, 1)
          : `${v.image}\n${v.manifest.count} files, built in ${v.manifest.seconds.total} s`,
      );
      return;
    }
    if (kind !== 'gen1' && kind !== 'gen2')
      throw new WinrescueError('cli.usage', `unknown kind ${kind} (gen1, gen2, many-files)`);
    if (o.flavour !== 'real' && o.flavour !== 'synthetic')
      throw new WinrescueError('cli.usage', `unknown flavour ${o.flavour}`);
    const d = await buildDisk({
      gen: kind === 'gen1' ? 1 : 2,
      flavour: o.flavour,
      clusterSize: o.clusterSize,
      sectorSize: o.sectorSize,
      sizeMiB: o.size,
      hives: o.flavour === 'synthetic' && o.stubHives ? STUB_HIVES : undefined,
      formats: (o.formats as DiskFormat[]).filter((f) => f !== 'raw'),
    });
    const paths: Record<string, string> = { raw: d.raw };
    if (d.vhd) paths.vhd = d.vhd;
    if (d.vhdDynamic) paths['vhd-dynamic'] = d.vhdDynamic;
    if (d.vhdx) paths.vhdx = d.vhdx;
    const manifest = `${d.dir}/manifest.json`;
    if (o.json) {
      console.log(
        JSON.stringify(
          { dir: d.dir, manifest, paths, windows: d.windowsVolume, layout: d.manifest.layout },
          null,
          1,
        ),
      );
    } else {
      for (const [k, v] of Object.entries(paths)) console.log(`${k}\t${v}`);
      console.log(`manifest\t${manifest}`);
      console.log(`windows\tpartition ${d.manifest.windows.partition} at byte ${d.manifest.windows.start}`);
    }
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isWinrescueError(e)) {
    const hint = e.structure === 'fixtures.hives' ? ' (or use --stub-hives for placeholder hives)' : '';
    console.error(e.message + hint);
    process.exit(e.exitCode);
  }
  console.error(e);
  process.exit(2);
});

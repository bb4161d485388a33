// `winrescue demo`: the newcomer's first run. Unpacks the bundled broken sample disk (demo/, synthetic: our own
// drivers signed by our own test root, no Microsoft files) into a temporary folder, diagnoses it from its boot
// screenshot, repairs it, and shows the result — printing each command it runs, so the same can be typed by hand.
import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_OK, EXIT_PROBLEMS, printJson, printLines, runCommand } from '../output.js';

interface DemoCliOptions {
  keep?: boolean;
  json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'unpack the bundled sample disk (a Gen2 VM stopped by 0xC0000102 on disk.sys), diagnose it from its boot ' +
        'screenshot, repair it and verify; works on a temporary copy, nothing else is touched',
    )
    .option('--keep', 'keep the temporary folder with the repaired disk and its undo journal')
    .option('--json', 'one JSON document: { disk, diagnosis, repair }')
    .action(async (opts: DemoCliOptions) =>
      runCommand(opts, async () => {
        const { extractSample } = await import('../../demo/index.js');
        const { diagnose } = await import('../../api/diagnose.js');
        const { repair } = await import('../../api/repair.js');
        const { formatDiagnosis } = await import('./diagnose.js');
        const { formatRepair } = await import('./repair.js');
        const dir = await mkdtemp(join(tmpdir(), 'winrescue-demo-'));
        const say = (lines: string[]) => {
          if (!opts.json) printLines(lines);
        };
        try {
          const s = await extractSample(dir);
          const trust = { trustRoots: [s.trustRoot] };
          say([
            `sample: ${s.manifest.disk.format} Gen${s.manifest.disk.generation} disk, ${s.manifest.disk.size} bytes, unpacked to ${s.disk}`,
            `its drivers are signed by the demo's own test root, trusted here by name: --trust-root ${s.trustRoot}`,
            '',
            `$ winrescue diagnose ${s.disk} --screenshot ${s.screenshot} --trust-root ${s.trustRoot}`,
          ]);
          const d = await diagnose(s.disk, { screenshot: s.screenshot, ...trust });
          say([
            ...formatDiagnosis(d, s.disk),
            '',
            `$ winrescue repair ${s.disk} --screenshot ${s.screenshot} --trust-root ${s.trustRoot} --yes`,
          ]);
          const r = await repair(s.disk, { screenshot: s.screenshot, ...trust, yes: true });
          say(formatRepair(r));
          const ok = r.verify !== null && r.verify.cause === 'healthy' && r.verify.checkProblems.length === 0;
          say([
            '',
            ok
              ? 'the sample disk boots again: the driver is restored and verified.'
              : 'the repair did not verify.',
          ]);
          say([
            opts.keep
              ? `kept: ${dir} (try: winrescue undo ${s.disk})`
              : 'the temporary copy is removed at exit; run `winrescue demo --keep` to keep it and try `winrescue undo` on it',
          ]);
          if (opts.json) printJson({ disk: s.disk, kept: opts.keep === true, diagnosis: d, repair: r });
          return ok ? EXIT_OK : EXIT_PROBLEMS;
        } finally {
          if (!opts.keep) await rm(dir, { recursive: true, force: true });
        }
      }),
    );
}

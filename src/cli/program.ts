// The winrescue command line: one file per command under commands/, all thin over the library API.
import { Command, CommanderError } from 'commander';
import { registerInspect } from './commands/inspect.js';
import { registerLs } from './commands/ls.js';
import { registerCat } from './commands/cat.js';
import { registerStat } from './commands/stat.js';
import { registerCheck } from './commands/check.js';
import { registerReg } from './commands/reg.js';
import { registerWrite } from './commands/write.js';
import { registerUndo } from './commands/undo.js';
import { registerBcd } from './commands/bcd.js';
import { registerPlaybooks } from './commands/playbooks.js';
import { registerDiagnose } from './commands/diagnose.js';
import { registerRepair } from './commands/repair.js';
import { registerDemo } from './commands/demo.js';
import { registerAzure } from './commands/azure.js';
import { EXIT_INPUT, printJson } from './output.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('winrescue')
    .description(
      'Bring a Windows VM back from a boot failure (0xC0000102 and friends) by repairing its disk offline.\n' +
        'DISK is a raw image, a VHD (fixed, dynamic, differencing), a VHDX, a block device, or a bare NTFS volume image.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerInspect(program);
  registerLs(program);
  registerCat(program);
  registerStat(program);
  registerCheck(program);
  registerWrite(program);
  registerReg(program);
  registerUndo(program);
  registerBcd(program);
  registerPlaybooks(program);
  registerDiagnose(program);
  registerRepair(program);
  registerDemo(program);
  registerAzure(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed by commander.
      if (e.exitCode !== 0 && argv.includes('--json'))
        printJson({ error: { code: 'cli.usage', message: e.message } });
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_INPUT;
      return;
    }
    throw e;
  }
}

// Child process of the NTFS crash test (write-crash.test.ts): a multi-file write on an NTFS volume image through the
// NTFS writer and the undo journal, saying "N" on stdout after operation N so the parent can kill it anywhere.
import { openDisk } from '../../../src/disk/open-disk.js';
import { openNtfsWriter } from '../../../src/fs/ntfs/write/index.js';
import { crashScenario } from './write-crash-scenario.js';

const [path, seedText] = process.argv.slice(2);
const disk = await openDisk(path!, { journal: {} });
const writer = await openNtfsWriter(disk.device);
await crashScenario(writer, Number(seedText), (i) => process.stdout.write(`${i}\n`));
await writer.flush();
await disk.device.close();
process.stdout.write('done\n');

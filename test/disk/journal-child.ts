// Child process of the SIGKILL test (journal-crash.test.ts): writes a seeded sequence through the undo journal and
// says "N" on stdout after write N, so the parent can kill it anywhere in the sequence.
import { openDisk } from '../../src/disk/open-disk.js';
import { rng } from './journal-helpers.js';

const [path, seedText, countText] = process.argv.slice(2);
const random = rng(Number(seedText));
const disk = await openDisk(path!, { journal: {} });
const dev = disk.device;
for (let i = 0; i < Number(countText); i++) {
  const len = 1 + Math.floor(random() * 64 * 1024);
  const at = Math.floor(random() * (dev.size - len));
  const data = new Uint8Array(len);
  for (let j = 0; j < len; j++) data[j] = (random() * 256) | 0;
  await dev.write(at, data);
  if (i % 3 === 2) await dev.flush();
  process.stdout.write(`${i}\n`);
}
await dev.close();
process.stdout.write('done\n');

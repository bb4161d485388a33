// Read a serial console log (EMS/SAC output of the boot manager, captured by Azure boot diagnostics or a VM's COM1).
// The boot manager writes the same text screen to EMS as to the display (../shared/docs/REFERENCE.md §3 A),
// wrapped in VT100 escape sequences; a log can hold several boots, and the last failure is the one that matters.

import { cleanConsoleText, parseSymptomText } from './parse-text.js';
import type { Symptom } from './types.js';

/** Lines that start a new boot-manager screen on the console. */
const SCREEN_START = /windows boot manager|needs to be repaired|windows failed to start/i;

export function readSerialLog(text: string): Symptom {
  const clean = cleanConsoleText(text);
  const lines = clean.split('\n');
  // Parse from the last screen that names a status: earlier boots may have failed differently.
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (SCREEN_START.test(lines[i] as string)) {
      const tail = lines.slice(i).join('\n');
      if (/(status|error\s*code)\s*:/i.test(tail)) {
        start = i;
        break;
      }
    }
  }
  const section = start >= 0 ? lines.slice(start).join('\n') : clean;
  const parsed = parseSymptomText(section);
  return { ...parsed, kind: 'serial', rawText: text };
}

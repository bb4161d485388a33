// Registry name case folding: one UTF-16 unit to one unit, as the kernel compares key and value names. Spec: msuhanov
// regf spec, "Index leaf" (sorted by uppercased name) and "Hash leaf" (hash over the uppercased name).

/**
 * Where the kernel's upcase table differs from JS's one-unit toUpperCase, as [first unit, count, step, delta]: the
 * units first, first+step, ... upcase to unit+delta. Taken from the $UpCase table Windows wrote on the Windows-made
 * NTFS volume in testdata (write-names.test.ts compares all 65,536 units with it): mostly characters Windows leaves
 * alone (µ, ı, ſ, final ς, letters added to Unicode after its table), and Greek vowels with iota subscript, which
 * Windows maps to their titlecase forms.
 */
// prettier-ignore
const KERNEL_UPCASE_EXCEPTIONS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0xb5, 1, 1, 0], [0x131, 1, 1, 0], [0x17f, 1, 1, 0], [0x19b, 1, 1, 0], [0x1c5, 1, 1, 0], [0x1c8, 1, 1, 0],
  [0x1cb, 1, 1, 0], [0x1f2, 1, 1, 0], [0x23f, 2, 1, 0], [0x252, 1, 1, 0], [0x25c, 1, 1, 0], [0x261, 1, 1, 0],
  [0x264, 3, 1, 0], [0x26a, 2, 2, 0], [0x282, 1, 1, 0], [0x287, 1, 1, 0], [0x29d, 2, 1, 0], [0x345, 1, 1, 0],
  [0x3c2, 1, 1, 0], [0x3d0, 2, 1, 0], [0x3d5, 2, 1, 0], [0x3f0, 2, 1, 0], [0x3f3, 2, 2, 0], [0x525, 6, 2, 0],
  [0x10d0, 43, 1, 0], [0x10fd, 3, 1, 0], [0x13f8, 6, 1, 0], [0x1c80, 9, 1, 0], [0x1c8a, 1, 1, 0],
  [0x1d8e, 1, 1, 0], [0x1e9b, 1, 1, 0], [0x1f80, 8, 1, 8], [0x1f90, 8, 1, 8], [0x1fa0, 8, 1, 8],
  [0x1fb3, 1, 1, 9], [0x1fbe, 1, 1, 0], [0x1fc3, 1, 1, 9], [0x1ff3, 1, 1, 9], [0x2c5f, 1, 1, 0],
  [0x2cec, 2, 2, 0], [0x2cf3, 1, 1, 0], [0x2d27, 1, 1, 0], [0x2d2d, 1, 1, 0], [0xa661, 1, 1, 0],
  [0xa699, 2, 2, 0], [0xa791, 2, 2, 0], [0xa794, 1, 1, 0], [0xa797, 10, 2, 0], [0xa7b5, 8, 2, 0],
  [0xa7c8, 2, 2, 0], [0xa7cd, 8, 2, 0], [0xa7f6, 1, 1, 0], [0xab53, 1, 1, 0], [0xab70, 80, 1, 0],
];

const kernelExceptions = new Map<number, number>();
for (const [first, count, step, delta] of KERNEL_UPCASE_EXCEPTIONS) {
  for (let i = 0; i < count; i++) kernelExceptions.set(first + i * step, first + i * step + delta);
}

/**
 * Uppercase of one UTF-16 code unit, the way the kernel compares names: one unit in, one unit out
 * (RtlUpcaseUnicodeChar's table). JS's uppercase where that is one unit and the table agrees; the
 * table's value where it does not; the unit itself where the uppercase is longer (ß → SS).
 */
export function upcaseUnit(c: number): number {
  if (c < 0x80) return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  const exception = kernelExceptions.get(c);
  if (exception !== undefined) return exception;
  const up = String.fromCharCode(c).toUpperCase();
  return up.length === 1 ? up.charCodeAt(0) : c;
}

/** The name uppercased unit by unit: the key that subkey lists are sorted and hashed by. */
export function upcaseName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(name)) return name.toUpperCase();
  let out = '';
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(upcaseUnit(name.charCodeAt(i)));
  return out;
}

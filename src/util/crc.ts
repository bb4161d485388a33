// CRC-32 (IEEE 802.3, reflected 0xEDB88320: GPT headers and entry arrays) and CRC-32C
// (Castagnoli, reflected 0x82F63B78: VHDX headers, region table, log entries).

function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const IEEE = table(0xedb88320);
const CASTAGNOLI = table(0x82f63b78);

function run(t: Uint32Array, data: Uint8Array, seed: number): number {
  let c = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export const crc32 = (data: Uint8Array, seed = 0): number => run(IEEE, data, seed);
export const crc32c = (data: Uint8Array, seed = 0): number => run(CASTAGNOLI, data, seed);

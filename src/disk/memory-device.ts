// A BlockDevice over a byte array: tests, small images, and hives or volumes extracted to memory.
import { type BlockDevice, checkDeviceRange, readOnlyError } from './block-device.js';

export class MemoryDevice implements BlockDevice {
  readonly sectorSize: number;
  readonly readOnly: boolean;
  readonly description: string;

  constructor(
    readonly bytes: Uint8Array,
    options: { sectorSize?: number; readOnly?: boolean; description?: string } = {},
  ) {
    this.sectorSize = options.sectorSize ?? 512;
    this.readOnly = options.readOnly ?? false;
    this.description = options.description ?? 'memory device';
  }

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    return this.bytes.slice(offset, offset + length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError(this, offset);
    checkDeviceRange(this, offset, data.length);
    this.bytes.set(data, offset);
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

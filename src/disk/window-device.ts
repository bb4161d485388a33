// A window [start, start+size) of another device: a partition seen as a device of its own.
import { type BlockDevice, checkDeviceRange, readOnlyError } from './block-device.js';

export class WindowDevice implements BlockDevice {
  readonly description: string;

  constructor(
    readonly parent: BlockDevice,
    readonly start: number,
    readonly size: number,
    description?: string,
  ) {
    checkDeviceRange(parent, start, size);
    this.description = description ?? `${parent.description} [${start}+${size}]`;
  }

  get sectorSize(): number {
    return this.parent.sectorSize;
  }
  get readOnly(): boolean {
    return this.parent.readOnly;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    return this.parent.read(this.start + offset, length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError(this, offset);
    checkDeviceRange(this, offset, data.length);
    await this.parent.write(this.start + offset, data);
  }

  flush(): Promise<void> {
    return this.parent.flush();
  }

  /** Closing a window leaves its parent open: the disk owns it. */
  async close(): Promise<void> {}
}

// A raw disk inside an ImageFile: the BlockDevice openDisk hands out when a remote image holds no container
// (a page blob uploaded without a VHD footer). Local raw images use FileDevice instead.
import { type BlockDevice, type ImageFile, checkDeviceRange, readOnlyError } from '../block-device.js';

/** Raw images address 512-byte sectors; Azure disks are 512e. */
const RAW_SECTOR_SIZE = 512;

export class ImageFileDevice implements BlockDevice {
  readonly sectorSize = RAW_SECTOR_SIZE;
  readonly size: number;

  constructor(
    private readonly file: ImageFile,
    readonly description: string,
  ) {
    this.size = file.size;
  }

  get readOnly(): boolean {
    return this.file.readOnly;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    return this.file.read(offset, length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError(this, offset);
    checkDeviceRange(this, offset, data.length);
    await this.file.write(offset, data);
  }

  flush(): Promise<void> {
    return this.file.flush();
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

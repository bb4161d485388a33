// The VHD BlockDevice family: what every VHD device exposes, and the fixed kind (data followed by the footer),
// Microsoft "Virtual Hard Disk Image Format Specification" v1.0 (2006), "Fixed Hard Disk Image".
import { type BlockDevice, type ImageFile, checkDeviceRange, readOnlyError } from '../block-device.js';
import type { VhdDynamicHeader } from './dynamic-header.js';
import type { VhdFooter } from './footer.js';

export type VhdFormat = 'vhd-fixed' | 'vhd-dynamic' | 'vhd-differencing';

/** Any device that can tell a differencing child which VHD it is (the child checks the parent's unique id). */
export interface VhdIdentity {
  readonly vhdUniqueId: string;
}

export abstract class VhdDevice implements BlockDevice {
  abstract readonly format: VhdFormat;
  /** VHD addresses 512-byte sectors only. */
  readonly sectorSize = 512;
  readonly description: string;

  protected constructor(
    protected readonly file: ImageFile,
    /** The footer at the end of the file (the authoritative one). */
    readonly footer: VhdFooter,
    readonly size: number,
    readonly readOnly: boolean,
    /** Things worth telling the user that did not stop the open ("footer copy at 0 differs"). */
    readonly warnings: readonly string[],
    kind: string,
  ) {
    this.description = `${kind} VHD ${baseName(file.path)}`;
  }

  get vhdUniqueId(): string {
    return this.footer.uniqueId;
  }

  /** The dynamic disk header; undefined for fixed images. */
  get header(): VhdDynamicHeader | undefined {
    return undefined;
  }

  abstract read(offset: number, length: number): Promise<Uint8Array>;
  abstract write(offset: number, data: Uint8Array): Promise<void>;

  async flush(): Promise<void> {
    if (!this.readOnly) await this.file.flush();
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** A fixed VHD: byte N of the disk is byte N of the file; the footer after the data is never written. */
export class VhdFixedDevice extends VhdDevice {
  readonly format = 'vhd-fixed' as const;

  constructor(
    file: ImageFile,
    footer: VhdFooter,
    size: number,
    readOnly: boolean,
    warnings: readonly string[],
  ) {
    super(file, footer, size, readOnly, warnings, 'fixed');
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    return this.file.read(offset, length);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError(this, offset);
    checkDeviceRange(this, offset, data.length);
    await this.file.write(offset, data);
  }
}

export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

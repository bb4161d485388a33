// The one I/O abstraction below every filesystem and container: a byte-addressed device with a sector size.
import { WinrescueError, hex } from '../errors.js';

export interface BlockDevice {
  /** Size in bytes; always a safe integer. */
  readonly size: number;
  /** Logical sector size in bytes (512 or 4096). */
  readonly sectorSize: number;
  readonly readOnly: boolean;
  /** Human description for messages: "dynamic VHD disk.vhd". Never contains secrets. */
  readonly description: string;
  /** Exactly `length` bytes from `offset`; a typed error if any of it lies outside the device. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Writes all of `data` at `offset`; a typed error if read-only or out of range (never silently dropped). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes every completed write durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file a container format (VHD, VHDX) lives in. Unlike a BlockDevice it can grow: dynamic formats append
 * blocks. Containers do all their I/O through this, so the undo journal can wrap it and see container metadata
 * (BAT, footer, headers) as ordinary writes.
 */
export interface ImageFile {
  readonly path: string;
  /** Current length in bytes; grows when a write ends past it. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Exactly `length` bytes; `disk.truncated` if the file ends first. */
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Shortens (or extends with zeros) the file: undo of an append. */
  truncate(length: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Throws the typed out-of-range error unless [offset, offset+length) lies within a device of `size` bytes. */
export function checkDeviceRange(
  dev: { size: number; description: string },
  offset: number,
  length: number,
): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > dev.size
  ) {
    throw new WinrescueError(
      'disk.outOfRange',
      `${dev.description}: access at ${hex(Math.max(0, offset || 0))} of ${length} bytes lies outside its ${dev.size} bytes`,
      { offset, structure: 'disk', expected: `<= ${dev.size}`, actual: offset + length },
    );
  }
}

export function readOnlyError(dev: { description: string }, offset: number): WinrescueError {
  return new WinrescueError('disk.readOnly', `${dev.description} is open read-only`, {
    offset,
    structure: 'disk',
  });
}

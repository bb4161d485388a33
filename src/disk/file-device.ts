// A raw image file or a block device, read and written with positioned I/O.
import { open, stat, readFile, realpath, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { WinrescueError } from '../errors.js';
import { type BlockDevice, type ImageFile, checkDeviceRange, readOnlyError } from './block-device.js';

export interface FileDeviceOptions {
  readOnly?: boolean;
  sectorSize?: number;
}

export class FileDevice implements BlockDevice {
  readonly sectorSize: number;
  readonly description: string;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly size: number,
    readonly readOnly: boolean,
    readonly isBlockDevice: boolean,
    sectorSize: number,
  ) {
    this.sectorSize = sectorSize;
    this.description = basename(path);
  }

  static async open(path: string, options: FileDeviceOptions = {}): Promise<FileDevice> {
    const st = await statOrThrow(path);
    if (st.isDirectory())
      throw new WinrescueError('disk.notAFile', `${path} is a directory, not a disk image`, { path });
    const isBlock = st.isBlockDevice();
    if (!st.isFile() && !isBlock) {
      throw new WinrescueError('disk.notAFile', `${path} is neither a regular file nor a block device`, {
        path,
      });
    }
    const readOnly = options.readOnly ?? false;
    let size = st.size;
    let sectorSize = options.sectorSize ?? 512;
    if (isBlock) {
      if (!readOnly) await refuseIfMounted(path);
      const geometry = await blockDeviceGeometry(path);
      size = geometry.size;
      sectorSize = options.sectorSize ?? geometry.sectorSize;
    }
    if (size === 0) throw new WinrescueError('disk.empty', `${path} is empty (0 bytes)`, { path, actual: 0 });
    let fh: FileHandle;
    try {
      fh = await open(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new WinrescueError('disk.io', `cannot open ${path}: ${(e as Error).message}`, { path, cause: e });
    }
    return new FileDevice(fh, path, size, readOnly, isBlock, sectorSize);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkDeviceRange(this, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(out, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new WinrescueError(
          'disk.truncated',
          `${this.description}: unexpected end of file at ${offset + done}`,
          {
            offset: offset + done,
            structure: 'disk',
            expected: this.size,
            actual: offset + done,
          },
        );
      }
      done += bytesRead;
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError(this, offset);
    checkDeviceRange(this, offset, data.length);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.fh.sync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A regular file holding a container image (VHD, VHDX); its size follows the writes. */
export class ImageFileHandle implements ImageFile {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    public size: number,
    readonly readOnly: boolean,
  ) {}

  static async open(path: string, readOnly: boolean): Promise<ImageFileHandle> {
    const st = await statOrThrow(path);
    if (!st.isFile()) throw new WinrescueError('disk.notAFile', `${path} is not a regular file`, { path });
    if (st.size === 0)
      throw new WinrescueError('disk.empty', `${path} is empty (0 bytes)`, { path, actual: 0 });
    let fh: FileHandle;
    try {
      fh = await open(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new WinrescueError('disk.io', `cannot open ${path}: ${(e as Error).message}`, { path, cause: e });
    }
    return new ImageFileHandle(fh, path, st.size, readOnly);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(out, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new WinrescueError(
          'disk.truncated',
          `${basename(this.path)}: file ends at ${offset + done}, needed ${offset + length}`,
          {
            offset: offset + done,
            expected: offset + length,
            actual: offset + done,
          },
        );
      }
      done += bytesRead;
    }
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw readOnlyError({ description: basename(this.path) }, offset);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
    this.size = Math.max(this.size, offset + data.length);
  }

  async truncate(length: number): Promise<void> {
    if (this.readOnly) throw readOnlyError({ description: basename(this.path) }, length);
    await this.fh.truncate(length);
    this.size = length;
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.fh.sync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

async function statOrThrow(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WinrescueError('disk.notFound', `${path}: no such file`, { path });
    throw new WinrescueError('disk.io', `cannot stat ${path}: ${(e as Error).message}`, { path, cause: e });
  }
}

/** Refuse a block device that is mounted (itself or any of its partitions): writing under a live filesystem destroys it. */
async function refuseIfMounted(path: string): Promise<void> {
  const real = await realpath(path);
  const name = basename(real);
  let mounts = '';
  try {
    mounts = await readFile('/proc/mounts', 'utf8');
  } catch {
    return;
  }
  for (const line of mounts.split('\n')) {
    const source = line.split(' ')[0];
    if (!source || !source.startsWith('/dev/')) continue;
    let src = source;
    try {
      src = await realpath(source);
    } catch {
      /* stale entry */
    }
    const srcName = basename(src);
    if (src === real || (srcName.startsWith(name) && /^(p?\d+)$/.test(srcName.slice(name.length)))) {
      throw new WinrescueError('disk.mounted', `${path} is mounted (${source}); unmount it before writing`, {
        path,
      });
    }
  }
}

async function blockDeviceGeometry(path: string): Promise<{ size: number; sectorSize: number }> {
  const name = basename(await realpath(path));
  try {
    const sectors = Number((await readFile(`/sys/class/block/${name}/size`, 'utf8')).trim());
    let sectorSize = 512;
    try {
      sectorSize = Number(
        (await readFile(`/sys/class/block/${name}/queue/logical_block_size`, 'utf8')).trim(),
      );
    } catch {
      /* partitions have no queue/: 512 */
    }
    return { size: sectors * 512, sectorSize };
  } catch (e) {
    throw new WinrescueError('disk.io', `cannot read the size of block device ${path}`, { path, cause: e });
  }
}

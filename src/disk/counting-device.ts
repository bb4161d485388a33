// Counts what is asked of a device: tests and benchmarks pin how many bytes an operation reads.
import type { BlockDevice } from './block-device.js';

export class CountingDevice implements BlockDevice {
  bytesRead = 0;
  reads = 0;
  bytesWritten = 0;

  constructor(readonly inner: BlockDevice) {}

  get size(): number {
    return this.inner.size;
  }
  get sectorSize(): number {
    return this.inner.sectorSize;
  }
  get readOnly(): boolean {
    return this.inner.readOnly;
  }
  get description(): string {
    return this.inner.description;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    this.bytesRead += length;
    return this.inner.read(offset, length);
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    this.bytesWritten += data.length;
    return this.inner.write(offset, data);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

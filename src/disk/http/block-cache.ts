// A bounded least-recently-used cache of fixed-size blocks of a remote disk. NTFS metadata walks revisit the same
// few MiB ($MFT records, index blocks, the hive bins) many times; a block fetched once should be fetched once.

export class BlockCache {
  /** Map iteration order is insertion order: the first key is the least recently used. */
  private readonly blocks = new Map<number, Uint8Array>();
  private held = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  get(index: number): Uint8Array | undefined {
    const b = this.blocks.get(index);
    if (b === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.blocks.delete(index);
    this.blocks.set(index, b);
    return b;
  }

  /** Without counting or reordering: for writes that patch a cached block. */
  peek(index: number): Uint8Array | undefined {
    return this.blocks.get(index);
  }

  set(index: number, data: Uint8Array): void {
    const old = this.blocks.get(index);
    if (old !== undefined) {
      this.held -= old.length;
      this.blocks.delete(index);
    }
    this.blocks.set(index, data);
    this.held += data.length;
    for (const [k, v] of this.blocks) {
      if (this.held <= this.maxBytes || k === index) break;
      this.blocks.delete(k);
      this.held -= v.length;
    }
  }

  delete(index: number): void {
    const old = this.blocks.get(index);
    if (old === undefined) return;
    this.blocks.delete(index);
    this.held -= old.length;
  }

  clear(): void {
    this.blocks.clear();
    this.held = 0;
  }
}

/** At most `limit` tasks at once; the rest wait their turn in order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

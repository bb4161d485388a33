// A bounded least-recently-used cache sized in bytes (not entries), so memory stays fixed whatever the
// volume size: MFT records and index blocks are cached at the volume level.

/** Default budget: enough for the records and index blocks of a deep path and a few large directories. */
export const DEFAULT_CACHE_BYTES = 8 * 1024 * 1024;

export class ByteLru<V> {
  private readonly map = new Map<string, { value: V; cost: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number = DEFAULT_CACHE_BYTES) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: string, value: V, cost: number): void {
    const old = this.map.get(key);
    if (old) {
      this.used -= old.cost;
      this.map.delete(key);
    }
    if (cost > this.capacity) return;
    this.map.set(key, { value, cost });
    this.used += cost;
    while (this.used > this.capacity) {
      const first = this.map.keys().next();
      if (first.done) break;
      const e = this.map.get(first.value)!;
      this.map.delete(first.value);
      this.used -= e.cost;
    }
  }

  get bytes(): number {
    return this.used;
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}

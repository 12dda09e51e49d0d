// How many of something each key holds open (connections per client IP, streams per peer, proxies per gateway). A
// slot is taken with `open` and given back by the function it returns, once, however often that is called; a key
// whose count falls to zero is forgotten.
export class OpenCounts<K> {
  private readonly counts = new Map<K, number>();

  get(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  has(key: K): boolean {
    return this.counts.has(key);
  }

  /** The keys holding at least one slot. */
  keys(): IterableIterator<K> {
    return this.counts.keys();
  }

  /** Takes a slot for `key`; returns its release. */
  open(key: K): () => void {
    this.counts.set(key, this.get(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.get(key) - 1;
      if (left > 0) this.counts.set(key, left);
      else this.counts.delete(key);
    };
  }
}

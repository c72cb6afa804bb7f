/**
 * Cuts any byte stream (a Node Readable, an undici body, a generator) into fixed-size chunks, copying into buffers
 * the caller owns. Memory stays at those buffers plus one piece of the source in hand, however large the file.
 */
export class ChunkReader {
  private readonly iterator: AsyncIterator<Uint8Array | string>;
  private pending: Uint8Array | undefined;
  private done = false;
  /** Bytes handed out so far. */
  total = 0;

  constructor(source: AsyncIterable<Uint8Array | string>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Fills `into` from the start; returns how many bytes it holds, fewer than its length only at the end. */
  async read(into: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < into.length) {
      if (!this.pending || this.pending.length === 0) {
        if (this.done) break;
        const next = await this.iterator.next();
        if (next.done) {
          this.done = true;
          break;
        }
        this.pending = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
        continue;
      }
      const take = Math.min(this.pending.length, into.length - filled);
      into.set(take === this.pending.length ? this.pending : this.pending.subarray(0, take), filled);
      this.pending = take === this.pending.length ? undefined : this.pending.subarray(take);
      filled += take;
    }
    this.total += filled;
    return filled;
  }

  /** Stops the source early (after a failure), releasing whatever it holds open. */
  async cancel(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.pending = undefined;
    await this.iterator.return?.();
  }
}

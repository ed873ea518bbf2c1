/**
 * Pull-based reading of a byte stream with look-ahead, so a container can be recognised by
 * its first bytes and then handed on whole, without putting back what was peeked.
 *
 * Errors of the underlying stream are remembered in `error`: a nested level that sees a
 * failure can tell "my parent's data broke" (rethrow) from "my own format is corrupt"
 * (report and carry on).
 *
 * @example
 *   const r = new ByteReader(fs.createReadStream(file));
 *   const head = await r.peek(8000);
 */
export class ByteReader {
  readonly #it: AsyncIterator<Buffer | Uint8Array | string>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #done = false;
  /** Bytes handed out by read() so far. */
  consumed = 0;
  /** The underlying stream's error, once it failed. */
  error: unknown = undefined;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** True once the source ended and nothing is buffered. */
  get ended(): boolean {
    return this.#done && this.#pendingBytes === 0;
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    let r: IteratorResult<Buffer | Uint8Array | string>;
    try {
      r = await this.#it.next();
    } catch (e) {
      this.error = e;
      this.#done = true;
      throw e;
    }
    if (r.done === true) {
      this.#done = true;
      return false;
    }
    const v = r.value;
    const buf = typeof v === "string" ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v);
    if (buf.length > 0) {
      this.#pending.push(buf);
      this.#pendingBytes += buf.length;
    }
    return true;
  }

  /** At least `n` bytes from the current position (fewer only at the end), not consumed. */
  async peek(n: number): Promise<Buffer> {
    while (this.#pendingBytes < n && (await this.#fill()));
    if (this.#pending.length > 1) this.#pending = [Buffer.concat(this.#pending)];
    const first = this.#pending[0] ?? Buffer.alloc(0);
    return first.subarray(0, n);
  }

  /** The next block of bytes, undefined at the end. */
  async read(): Promise<Buffer | undefined> {
    while (this.#pendingBytes === 0) if (!(await this.#fill())) return undefined;
    const b = this.#pending.shift()!;
    this.#pendingBytes -= b.length;
    this.consumed += b.length;
    return b;
  }

  /** Everything left, refusing more than `max` bytes (undefined then, with the rest unread). */
  async readAll(max: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let size = 0;
    for (let b = await this.read(); b !== undefined; b = await this.read()) {
      size += b.length;
      if (size > max) return undefined;
      parts.push(b);
    }
    return Buffer.concat(parts);
  }

  /** Reads and drops the rest: a tar entry must be consumed before the next one comes. */
  async drain(): Promise<void> {
    while ((await this.read()) !== undefined);
  }

  /** Stops the underlying source (closing a file); never use it on a tar entry. */
  async close(): Promise<void> {
    this.#done = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#it.return?.();
  }

  /**
   * The remaining bytes as an async iterable. Stopping early leaves the source open, so the
   * owner can still drain it (destroying a tar entry would destroy the whole tar).
   */
  async *rest(): AsyncGenerator<Buffer> {
    for (let b = await this.read(); b !== undefined; b = await this.read()) yield b;
  }
}

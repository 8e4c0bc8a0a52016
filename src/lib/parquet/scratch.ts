/**
 * One reusable buffer for page bodies. Each page is compressed (copied) before the next one is
 * built, so a single buffer serves them all instead of megabytes of short-lived allocations that
 * only a garbage collection frees.
 */
export class Scratch {
  private buffer = Buffer.allocUnsafe(1 << 20)

  /** A buffer of exactly `size` bytes, valid until the next call. */
  take(size: number): Buffer {
    if (size > this.buffer.length) this.buffer = Buffer.allocUnsafe(Math.max(size, this.buffer.length * 2))
    return this.buffer.subarray(0, size)
  }
}

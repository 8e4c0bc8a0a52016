/**
 * Parsing an allocation body on other threads. Parsing the JSON and building rows is most of an
 * export's work (npm run bench): a ParsePool runs it on worker threads, and on the main thread when
 * they have enough queued, while the main thread reads the body, checks the envelope and writes the
 * Parquet file.
 *
 * The body is cut into blocks of BLOCK_BYTES as it arrives, whatever its entries; each block goes to
 * a thread, which finds runs of entries by marker (markedRuns), parses them and builds their rows.
 * The main thread takes the answers in block order through the envelope splitter: the bytes between
 * runs (the entries cut by a block's edges, anything the marker search could not prove) it reads
 * itself, and a run it takes whole only when the splitter's state at its first byte is an entry's
 * start (`atEntryStart`); otherwise it reads the run's bytes itself too. The entries, their order,
 * the envelope's checks and the errors are the splitter's alone, so they are the same as without
 * the pool.
 */
import {Worker} from 'node:worker_threads'

import {ParseThreadError} from '../errors.js'
import {type Entry, EnvelopeSplitter, type SplitterLimits} from '../kubecost/envelope-splitter.js'
import {setting} from '../settings.js'
import type {RowBuilder} from '../rows.js'
import {type BatchBuffers, BuiltRow, type RowBatch} from './batch.js'
import {parseBlock} from './block.js'
import type {ParseContext, ParsedBlock, ToWorker} from './protocol.js'

/**
 * Bytes of body per block: large enough that a block's messages cost little, small enough that
 * the main thread's share of the parsing comes in short turns (measured with npm run bench:
 * 256 KiB beat 1 MiB in time and memory).
 */
export const BLOCK_BYTES = 1 << 18
/**
 * Blocks sent to a thread and not yet answered, at most: about 3 MiB, enough work queued that the
 * thread does not wait while the main thread parses a block of its own.
 */
const QUEUED_PER_THREAD = 12
/** Blocks read and not yet taken, at most, before the reader waits for the oldest: what a slow thread can cost. */
const MAX_HELD = 16

interface Waiting {
  resolve(block: ParsedBlock): void
  reject(error: Error): void
}

const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url)

export class ParsePool {
  private readonly workers: Worker[]
  private readonly waiting = new Map<number, Waiting>()
  private nextId = 0
  private failure: ParseThreadError | undefined
  private closing = false
  /** The current day's builder on the main thread, for the blocks it parses itself. */
  private builder: RowBuilder | undefined
  /** Block buffers and batch buffers back from the threads, for the next blocks. */
  private readonly spareBlocks: ArrayBuffer[] = []
  private readonly spareBatches: BatchBuffers[] = []

  /** Bytes per block (BLOCK_BYTES; tests use small blocks to put many edges in a small body). */
  readonly blockBytes: number

  constructor(
    readonly threads: number,
    options: {blockBytes?: number} = {},
  ) {
    this.blockBytes = options.blockBytes ?? BLOCK_BYTES
    this.workers = Array.from({length: threads}, () => {
      const worker = new Worker(workerUrl)
      worker.on('message', (message: ParsedBlock) => this.settle(message))
      worker.on('error', (error: Error) => this.fail(error))
      worker.on('exit', code => {
        if (!this.closing) this.fail(new Error(`it stopped (exit code ${code})`))
      })
      // Only a block in flight keeps the process alive (see `ref`).
      worker.unref()
      return worker
    })
  }

  /** Why the pool stopped working, if it did: a thread failed. */
  get failed(): ParseThreadError | undefined {
    return this.failure
  }

  /** Blocks on the threads, not yet answered. */
  get busy(): number {
    return this.waiting.size
  }

  /**
   * The day whose body comes next: how its rows are built, as data for the threads and as the
   * day's own builder (built on `context`), which the main thread uses for the blocks it parses.
   */
  context(context: ParseContext, here: RowBuilder): void {
    this.builder = here
    for (const worker of this.workers) worker.postMessage({type: 'context', context} satisfies ToWorker)
  }

  /** A reader for one response body, parsing on the pool's threads. */
  reader(limits: SplitterLimits): ParallelReader {
    return new ParallelReader(this, new EnvelopeSplitter(limits), limits.maxEntryBytes)
  }

  /** An empty block buffer: one given back, or a new one. */
  buffer(): ArrayBuffer {
    return this.spareBlocks.pop() ?? new ArrayBuffer(this.blockBytes)
  }

  /** A block buffer no longer read (the splitter keeps nothing of it: see `holds`). */
  giveBackBlock(block: ArrayBuffer): void {
    if (block.byteLength === this.blockBytes && this.spareBlocks.length < this.spares) this.spareBlocks.push(block)
  }

  /** A batch no longer read: its buffers build another. */
  giveBackBatch(batch: RowBatch): void {
    if (this.spareBatches.length < this.spares)
      this.spareBatches.push({numbers: batch.numbers.buffer as ArrayBuffer, ids: batch.ids.buffer as ArrayBuffer})
  }

  /** Enough spare buffers for every block that can be out at once; more would only hold memory. */
  private get spares(): number {
    return this.threads * QUEUED_PER_THREAD + MAX_HELD + 2
  }

  /** Parses one block on one of the threads; the block's buffer (and a spare batch's) is moved there and back. */
  parse(block: ArrayBuffer, length: number, maxEntryBytes?: number): Promise<ParsedBlock> {
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    const worker = this.workers[id % this.workers.length] as Worker
    const done = new Promise<ParsedBlock>((resolve, reject) => this.waiting.set(id, {resolve, reject}))
    if (this.waiting.size === 1) this.ref(true)
    const reuse = this.spareBatches.pop() ?? {}
    const transfer = [block, reuse.numbers, reuse.ids].filter(b => b !== undefined)
    worker.postMessage({type: 'block', id, block, length, maxEntryBytes, reuse} satisfies ToWorker, transfer)
    return done
  }

  /** Parses one block here, on the main thread. */
  parseHere(block: ArrayBuffer, length: number, maxEntryBytes?: number): ParsedBlock {
    if (!this.builder) throw new Error('a block before its context')
    return parseBlock(this.builder, -1, block, length, maxEntryBytes, this.spareBatches.pop()).parsed
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.all(this.workers.map(async w => w.terminate()))
  }

  private settle(message: ParsedBlock): void {
    const waiting = this.waiting.get(message.id)
    this.waiting.delete(message.id)
    if (this.waiting.size === 0) this.ref(false)
    waiting?.resolve(message)
  }

  private fail(cause: Error): void {
    if (this.failure || this.closing) return
    this.failure = new ParseThreadError(`A parse thread failed: ${cause.message}`, {
      cause,
      suggestions: [
        `The day is collected again by the next run; if this repeats, parse on the main thread only (${setting('parseThreads')} 0) and report the error.`,
      ],
    })
    for (const waiting of this.waiting.values()) waiting.reject(this.failure)
    this.waiting.clear()
    this.ref(false)
  }

  private ref(on: boolean): void {
    // terminate() holds a thread until it has stopped, and close() is awaited: an answer read after
    // close() began must not let go of it, or the process ends there with nothing left to wait on
    // (Node's exit code 13 for an unsettled top-level await).
    if (this.closing) return
    for (const worker of this.workers) {
      if (on) worker.ref()
      else worker.unref()
    }
  }
}

/** A block sent to a thread (answered once `parsed` is set) or parsed here. */
interface Job {
  parsed?: ParsedBlock
  done?: Promise<ParsedBlock>
}

/**
 * Reads one response body with a ParsePool; the entries it hands out are the EnvelopeSplitter's,
 * in the same order, with a BuiltRow as the value of each entry parsed by block. A BuiltRow is
 * valid until the reader's next `push` or `end`: its batch's buffers are reused then.
 *
 * Blocks go to the threads while they have room (QUEUED_PER_THREAD each); when they are all busy,
 * the main thread parses the block itself rather than wait, so both CPUs stay at work whichever is
 * the slower. Answers are taken in block order, as soon as the oldest is there.
 */
export class ParallelReader {
  private block: Uint8Array
  private filled = 0
  private readonly queue: Job[] = []
  private readonly maxThreaded: number
  /** Batches whose rows the last call handed out. */
  private readonly handedOut: RowBatch[] = []

  constructor(
    private readonly pool: ParsePool,
    private readonly splitter: EnvelopeSplitter,
    private readonly maxEntryBytes?: number,
  ) {
    this.maxThreaded = pool.threads * QUEUED_PER_THREAD
    this.block = new Uint8Array(pool.buffer())
  }

  get meta(): Record<string, unknown> {
    return this.splitter.meta
  }

  get sets(): number {
    return this.splitter.sets
  }

  get head(): string {
    return this.splitter.head
  }

  get bytes(): number {
    return this.splitter.bytes
  }

  /** Entries found by marker, on a thread or by the splitter itself (for tests and profiles). */
  get quickEntries(): number {
    return this.splitter.quickEntries
  }

  async push(chunk: Uint8Array): Promise<Entry[]> {
    this.release()
    const out: Entry[] = []
    let at = 0
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, this.block.length - this.filled)
      this.block.set(chunk.subarray(at, at + take), this.filled)
      this.filled += take
      at += take
      if (this.filled === this.block.length) this.dispatch()
    }

    // Answers are held only so far ahead of the oldest one.
    while (this.queue.length > MAX_HELD) await this.takeOldest(out)
    while (this.queue[0]?.parsed) await this.takeOldest(out)
    return out
  }

  async end(): Promise<Entry[]> {
    this.release()
    const out: Entry[] = []
    if (this.filled > 0) this.dispatch()
    while (this.queue.length > 0) await this.takeOldest(out)
    for (const entry of this.splitter.end()) out.push(entry)
    return out
  }

  /**
   * The batches handed out by the last call are read by now (a BuiltRow is valid until the reader's
   * next call): their buffers serve again.
   */
  private release(): void {
    for (const batch of this.handedOut) this.pool.giveBackBatch(batch)
    this.handedOut.length = 0
  }

  private dispatch(): void {
    const {buffer} = this.block
    if (this.pool.failed) throw this.pool.failed
    if (this.pool.busy < this.maxThreaded) {
      const job: Job = {}
      job.done = this.pool.parse(buffer as ArrayBuffer, this.filled, this.maxEntryBytes).then(parsed => {
        job.parsed = parsed
        return parsed
      })
      // A body given up on (a retry, a failed day) leaves its blocks unawaited: not an unhandled rejection.
      job.done.catch(() => {})
      this.queue.push(job)
    } else {
      this.queue.push({parsed: this.pool.parseHere(buffer as ArrayBuffer, this.filled, this.maxEntryBytes)})
    }

    this.block = new Uint8Array(this.pool.buffer())
    this.filled = 0
  }

  private async takeOldest(out: Entry[]): Promise<void> {
    const job = this.queue.shift() as Job
    this.take(job.parsed ?? (await (job.done as Promise<ParsedBlock>)), out)
  }

  /** One block's entries, in order: the splitter's own between runs, a thread's within the runs it vouches for. */
  private take(parsed: ParsedBlock, out: Entry[]): void {
    const bytes = new Uint8Array(parsed.block, 0, parsed.length)
    const {splitter} = this
    const read = (from: number, to: number) => {
      for (const entry of splitter.push(bytes.subarray(from, to))) out.push(entry)
    }

    let at = 0
    let entry = 0
    let failure = 0
    for (const run of parsed.runs) {
      if (run.start > at) read(at, run.start)
      if (splitter.atEntryStart()) {
        const last = entry + run.count - 1
        splitter.skip(bytes.subarray(run.start, run.end), run.count, parsed.keys[last] as string)
        const set = splitter.set
        for (; entry <= last; entry++) {
          while (failure < parsed.failures.length && (parsed.failures[failure]?.entry as number) < entry) failure++
          const failed = parsed.failures[failure]?.entry === entry ? parsed.failures[failure] : undefined
          const value = new BuiltRow(parsed.batch, parsed.rows[entry] as number, parsed.totals[entry] as number, failed)
          out.push({set, key: parsed.keys[entry] as string, value})
        }
      } else {
        read(run.start, run.end)
        entry += run.count
      }

      at = run.end
    }

    if (at < parsed.length) read(at, parsed.length)
    // The buffer serves again, unless it holds the start of an entry that runs on into the next block.
    if (!splitter.holds(parsed.block)) this.pool.giveBackBlock(parsed.block)
    this.handedOut.push(parsed.batch)
  }
}

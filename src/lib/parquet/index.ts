import {Worker} from 'node:worker_threads'

import {ParquetWriteError} from '../errors.js'
import type {RowSink} from '../rows.js'
import type {Column} from '../schema.js'
import {ColumnBatch} from './batch.js'
import type {Reply, Request, WorkerOptions} from './protocol.js'

export {ROW_GROUP_SIZE} from './protocol.js'

/** Batches sent to the worker and not yet appended, before the reader waits: bounds memory. */
const MAX_IN_FLIGHT = 4

export interface ParquetEngineOptions {
  /** Where staged parts and DuckDB's spill files go. */
  workDir: string
  threads?: number
  memoryLimit?: string
}

/**
 * Writes contract rows to Snappy Parquet through DuckDB (V1 data pages, dictionary encoding, typed
 * from the schema alone) on a worker thread. Started on first use, so commands that write nothing
 * never load DuckDB.
 */
export class ParquetEngine {
  private seq = 0
  private files = 0
  private readonly waiting = new Map<number, {resolve: () => void; reject: (error: Error) => void}>()
  private failure: Error | undefined

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.seq)
      this.waiting.delete(reply.seq)
      if (reply.ok) waiter?.resolve()
      else waiter?.reject(new ParquetWriteError(`Parquet engine (DuckDB): ${reply.message}`))
    })
    const fail = (error: Error) => {
      this.failure = new ParquetWriteError(`Parquet engine (DuckDB) stopped: ${error.message}`, {cause: error})
      for (const waiter of this.waiting.values()) waiter.reject(this.failure)
      this.waiting.clear()
    }

    worker.on('error', fail)
    worker.on('exit', (code) => {
      if (this.waiting.size > 0) fail(new Error(`worker exited with code ${code}`))
    })
  }

  static async start(options: ParquetEngineOptions): Promise<ParquetEngine> {
    const workerOptions: WorkerOptions = {workDir: options.workDir, threads: options.threads ?? 2, memoryLimit: options.memoryLimit}
    const worker = new Worker(new URL('worker.js', import.meta.url), {workerData: workerOptions})
    const engine = new ParquetEngine(worker)
    await engine.reply(0)
    return engine
  }

  /** Sends a request; the promise settles when the worker has carried it out. */
  request(request: Request, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    const seq = ++this.seq
    const done = this.reply(seq)
    this.worker.postMessage({seq, request}, transfer)
    return done
  }

  async newFile(columns: readonly Column[]): Promise<ParquetFileWriter> {
    const file = ++this.files
    await this.request({op: 'open', file, columns: columns.map((c) => ({name: c.name, type: c.type}))})
    return new ParquetFileWriter(this, file, columns)
  }

  async close(): Promise<void> {
    await this.worker.terminate()
  }

  private reply(seq: number): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.set(seq, {resolve, reject}))
  }
}

/**
 * One Parquet file in the making: a RowSink. Full batches go to the worker as they fill; `drain`
 * waits when too many are in flight, `finish` writes the file.
 */
export class ParquetFileWriter implements RowSink {
  rows = 0
  private readonly batch: ColumnBatch
  private readonly inFlight = new Set<Promise<void>>()
  private failure: unknown

  constructor(
    private readonly engine: ParquetEngine,
    private readonly file: number,
    columns: readonly Column[],
  ) {
    this.batch = new ColumnBatch(columns.map((c) => c.type))
  }

  string(value: string): void {
    this.batch.string(value)
  }

  number(value: number): void {
    this.batch.number(value)
  }

  endRow(): void {
    this.batch.endRow()
    this.rows++
    if (this.batch.full) this.send()
  }

  /** Waits while the worker is behind; call between network chunks. */
  async drain(): Promise<void> {
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight)
    this.throwIfFailed()
  }

  /** Forgets every row so far (the response is being read again from the start). */
  async reset(): Promise<void> {
    this.batch.take()
    this.rows = 0
    await this.settle()
    this.failure = undefined
    await this.engine.request({op: 'reset', file: this.file})
  }

  /** Writes all rows to `path` as Snappy Parquet; the worker then drops them. */
  async finish(path: string): Promise<void> {
    if (this.batch.rows > 0) this.send()
    await this.settle()
    if (this.failure) {
      await this.discard()
      this.throwIfFailed()
    }

    try {
      await this.engine.request({op: 'finish', file: this.file, path})
    } catch (error) {
      throw new ParquetWriteError(`Could not write Parquet file ${path}: ${(error as Error).message}`, {cause: error})
    }
  }

  /** Drops the rows without writing (a failed day). */
  async discard(): Promise<void> {
    this.batch.take()
    await this.settle()
    await this.engine.request({op: 'discard', file: this.file}).catch(() => {})
  }

  private send(): void {
    const batch = this.batch.take()
    const sent = this.engine.request({op: 'append', file: this.file, batch}, [batch.numbers.buffer as ArrayBuffer])
    const tracked: Promise<void> = sent.then(
      () => {
        this.inFlight.delete(tracked)
      },
      (error: unknown) => {
        this.failure ??= error
        this.inFlight.delete(tracked)
      },
    )
    this.inFlight.add(tracked)
  }

  private async settle(): Promise<void> {
    await Promise.all(this.inFlight)
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure
  }
}

/**
 * The DuckDB side of the Parquet engine, on its own thread so that appending to DuckDB and writing
 * Parquet run beside the main thread's HTTP reading and JSON parsing instead of after it.
 * Requests are handled one at a time, in order.
 */
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {parentPort, workerData} from 'node:worker_threads'

import {
  DOUBLE,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  TIMESTAMP_MS,
  VARCHAR,
} from '@duckdb/node-api'
import bindingsModule from '@duckdb/node-bindings'

import type {ColumnType} from '../schema.js'
import {BATCH_ROWS, CHUNK_ROWS, type ColumnarRows, ROW_GROUP_SIZE, type Reply, type Request, type WorkerOptions} from './protocol.js'

const bindings = bindingsModule
const DUCKDB_TYPES: Record<ColumnType, string> = {string: 'VARCHAR', timestamp: 'TIMESTAMP_MS', double: 'DOUBLE'}
const FILE_OPTIONS = `(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`

class FileState {
  appender: DuckDBAppender | undefined
  staged = 0
  /** Rows already in `chunk`, not yet appended. */
  private filled = 0
  readonly parts: string[] = []
  readonly chunk: DuckDBDataChunk
  /** Per column: its slot among numeric columns, or among string columns. */
  readonly slots: number[]
  private readonly millis = new BigInt64Array(BATCH_ROWS)
  private readonly vectors: ReturnType<typeof bindings.data_chunk_get_vector>[]

  constructor(
    private readonly db: DuckDBConnection,
    private readonly table: string,
    private readonly ddl: string,
    readonly kinds: ColumnType[],
    private readonly partPrefix: string,
  ) {
    this.chunk = DuckDBDataChunk.create(kinds.map((k) => (k === 'string' ? VARCHAR : k === 'double' ? DOUBLE : TIMESTAMP_MS)))
    let numeric = 0
    let string = 0
    this.slots = kinds.map((k) => (k === 'string' ? string++ : numeric++))
    this.vectors = kinds.map((_, c) => bindings.data_chunk_get_vector(this.chunk.chunk, c))
  }

  async open(): Promise<void> {
    await this.db.run(`CREATE OR REPLACE TABLE ${this.table} (${this.ddl})`)
    this.appender = await this.db.createAppender(this.table)
  }

  /** Copies a batch into the chunk at its fill offset; appends the chunk once full. */
  async append(batch: ColumnarRows): Promise<void> {
    let done = 0
    while (done < batch.rows) {
      const n = Math.min(batch.rows - done, CHUNK_ROWS - this.filled)
      this.fill(batch, done, n)
      done += n
      if (this.filled === CHUNK_ROWS) await this.appendChunk()
    }
  }

  private fill(batch: ColumnarRows, from: number, n: number): void {
    const at = this.filled
    for (let c = 0; c < this.kinds.length; c++) {
      const vector = this.vectors[c] as ReturnType<typeof bindings.data_chunk_get_vector>
      const slot = this.slots[c] as number
      switch (this.kinds[c]) {
        case 'double': {
          bindings.copy_data_to_vector(vector, at * 8, batch.numbers.buffer as ArrayBuffer, (slot * BATCH_ROWS + from) * 8, n * 8)
          break
        }

        case 'timestamp': {
          for (let r = 0; r < n; r++) this.millis[r] = BigInt(batch.numbers[slot * BATCH_ROWS + from + r] as number)
          bindings.copy_data_to_vector(vector, at * 8, this.millis.buffer, 0, n * 8)
          break
        }

        default: {
          const values = batch.strings[slot] as string[]
          for (let r = 0; r < n; r++) bindings.vector_assign_string_element(vector, at + r, values[from + r] as string)
        }
      }
    }

    this.filled += n
  }

  private async appendChunk(): Promise<void> {
    if (this.filled === 0) return
    bindings.data_chunk_set_size(this.chunk.chunk, this.filled)
    this.appender?.appendDataChunk(this.chunk)
    // Into the table now: the appender would otherwise buffer ~200k rows of its own before flushing.
    this.appender?.flushSync()
    bindings.data_chunk_reset(this.chunk.chunk)
    this.staged += this.filled
    this.filled = 0
    if (this.staged >= ROW_GROUP_SIZE) {
      this.appender?.closeSync()
      await this.stagePart()
      this.appender = await this.db.createAppender(this.table)
    }
  }

  async finish(path: string): Promise<void> {
    await this.appendChunk()
    this.appender?.closeSync()
    this.appender = undefined
    if (this.parts.length === 0) {
      await this.db.run(`COPY ${this.table} TO ${quoteLiteral(path)} ${FILE_OPTIONS}`)
      return
    }

    if (this.staged > 0) await this.stagePart()
    const parts = this.parts.map((p) => quoteLiteral(p)).join(', ')
    await this.db.run(`COPY (SELECT * FROM read_parquet([${parts}])) TO ${quoteLiteral(path)} ${FILE_OPTIONS}`)
  }

  async discard(): Promise<void> {
    try {
      this.appender?.closeSync()
    } catch {
      // the table is dropped next either way
    }

    this.appender = undefined
    await this.db.run(`DROP TABLE IF EXISTS ${this.table}`)
    await Promise.all(this.parts.splice(0).map((p) => rm(p, {force: true})))
    bindings.data_chunk_reset(this.chunk.chunk)
    this.staged = 0
    this.filled = 0
  }

  /** Writes the staging table out as the next part and empties it (re-creating frees its memory). */
  private async stagePart(): Promise<void> {
    const part = `${this.partPrefix}-${this.parts.length}.parquet`
    await this.db.run(`COPY ${this.table} TO ${quoteLiteral(part)} ${FILE_OPTIONS}`)
    this.parts.push(part)
    await this.db.run(`CREATE OR REPLACE TABLE ${this.table} (${this.ddl})`)
    this.staged = 0
  }
}

const options = workerData as WorkerOptions
const config: Record<string, string> = {threads: String(options.threads), temp_directory: join(options.workDir, 'duckdb-tmp')}
if (options.memoryLimit) config.memory_limit = options.memoryLimit
const instance = await DuckDBInstance.create(':memory:', config)
const db = await instance.connect()
const files = new Map<number, FileState>()

function file(id: number): FileState {
  const state = files.get(id)
  if (!state) throw new Error(`no open file ${id}`)
  return state
}

async function handle(request: Request): Promise<void> {
  switch (request.op) {
    case 'open': {
      const ddl = request.columns.map((c) => `${quoteIdentifier(c.name)} ${DUCKDB_TYPES[c.type]}`).join(', ')
      const state = new FileState(db, `day_${request.file}`, ddl, request.columns.map((c) => c.type), join(options.workDir, `part-${request.file}`))
      await state.open()
      files.set(request.file, state)
      return
    }

    case 'append': {
      await file(request.file).append(request.batch)
      return
    }

    case 'reset': {
      const state = file(request.file)
      await state.discard()
      await state.open()
      return
    }

    case 'finish': {
      const state = file(request.file)
      try {
        await state.finish(request.path)
      } finally {
        await state.discard()
        files.delete(request.file)
      }

      return
    }

    case 'discard': {
      await files.get(request.file)?.discard()
      files.delete(request.file)
    }
  }
}

let queue = Promise.resolve()
parentPort?.on('message', ({seq, request}: {seq: number; request: Request}) => {
  queue = queue.then(async () => {
    let reply: Reply
    try {
      await handle(request)
      reply = {seq, ok: true}
    } catch (error) {
      reply = {seq, ok: false, message: error instanceof Error ? error.message : String(error)}
    }

    parentPort?.postMessage(reply)
  })
})
parentPort?.postMessage({seq: 0, ok: true} satisfies Reply)

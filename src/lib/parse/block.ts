/** One block of an allocation body, parsed: the work a parse thread does, and the main thread when it is ahead. */
import {KubecostResponseError} from '../errors.js'
import {markedRuns} from '../kubecost/marked-entries.js'
import {type RowBuilder, totalCostOf} from '../rows.js'
import {type BatchBuffers, BatchSink} from './batch.js'
import type {ParsedBlock} from './protocol.js'

/**
 * The runs of entries in `block`'s first `length` bytes, with their rows built by `builder`; and the
 * buffers to move with the answer to another thread.
 */
export function parseBlock(
  builder: RowBuilder,
  id: number,
  block: ArrayBuffer,
  length: number,
  maxEntryBytes: number | undefined,
  reuse?: BatchBuffers,
): {parsed: ParsedBlock; transfer: ArrayBuffer[]} {
  // About one row per KiB of body (a Kubecost allocation is 1-3 KiB): the sink grows if there are more.
  const sink = new BatchSink(builder.columns, Math.max(64, length >> 10), reuse)
  const keys: string[] = []
  const rows: number[] = []
  const totals: number[] = []
  const failures: ParsedBlock['failures'] = []
  const runs = markedRuns(
    new Uint8Array(block, 0, length),
    (key, value) => {
      keys.push(key)
      try {
        const built = builder.write(key, value, sink)
        rows.push(built ? sink.rows - 1 : -1)
        totals.push(built ? totalCostOf(value) : 0)
      } catch (error) {
        // The day's own failure (a value out of range): the main thread raises it at this entry.
        if (!(error instanceof KubecostResponseError)) throw error
        sink.abandonRow()
        rows.push(-1)
        totals.push(0)
        failures.push({entry: keys.length - 1, message: error.summary, suggestions: error.suggestions})
      }
    },
    maxEntryBytes,
  )
  const {batch, transfer} = sink.finish()
  const parsed: ParsedBlock = {
    type: 'parsed',
    id,
    block,
    length,
    runs,
    keys,
    rows: Int32Array.from(rows),
    totals: Float64Array.from(totals),
    failures,
    batch,
  }
  return {parsed, transfer: [block, ...transfer]}
}

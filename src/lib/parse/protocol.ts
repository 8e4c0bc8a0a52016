/** The messages between the main thread and its parse threads. */
import type {EntryRun} from '../kubecost/marked-entries.js'
import type {NodeIndexData} from '../nodes.js'
import type {RowContext} from '../rows.js'
import type {BatchBuffers, RowBatch} from './batch.js'

/** What a parse thread builds rows with: one day's RowContext, as plain data. */
export interface ParseContext extends Omit<RowContext, 'nodes' | 'columns'> {
  nodes: NodeIndexData
}

export type ToWorker =
  | {type: 'context'; context: ParseContext}
  | {
      type: 'block'
      id: number
      block: ArrayBuffer
      length: number
      /** Entries larger than this are left to the main thread, which fails them. */
      maxEntryBytes: number | undefined
      /** An earlier batch's buffers, to build this one in. */
      reuse: BatchBuffers
    }

/** A block's answer: its buffer back, the runs of entries found in it, and their rows. */
export interface ParsedBlock {
  type: 'parsed'
  id: number
  block: ArrayBuffer
  length: number
  /** In order; every entry of every run has one element in `keys`, `rows` and `totals`. */
  runs: EntryRun[]
  keys: string[]
  /** The entry's row in `batch`, or -1: not an allocation (or failed, see `failures`). */
  rows: Int32Array
  /** The entry's totalCost, for the day's total (0 for entries without a row). */
  totals: Float64Array
  /** Entries whose row could not be built: the day fails at the first of them that is not a repeat. */
  failures: Array<{entry: number; message: string; suggestions: string[]}>
  batch: RowBatch
}

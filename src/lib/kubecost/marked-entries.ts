/**
 * Finding Kubecost entries with native byte searches instead of a byte-by-byte scan.
 *
 * Kubecost writes every entry of a set as `"<key>":{"name":"…`. `{"` cannot occur inside a JSON
 * string (a quote in a string follows a backslash), so every match of that marker is structure: a
 * key's closing quote and the start of an object. Starting at an entry's key, the next marker ends
 * the entry; its value ends at the last `,"` before that marker. A cut anywhere else leaves a prefix
 * of the entry (unbalanced) or more than one value, which `JSON.parse` rejects, so a parse that
 * succeeds proves the cut — provided the start was an entry's key at the set's level, which only the
 * caller can know (the splitter from its state; a parse thread has it checked by the main thread).
 */
import {isAscii} from 'node:buffer'

const QUOTE = 0x22
const COLON = 0x3a
const BACKSLASH = 0x5c

/** A key's closing quote and the start of an allocation (see above). */
const ENTRY_MARKER = Buffer.from('":{"name":"')
/**
 * What the search looks for: the marker without its `":`, which are checked after. A needle that
 * starts with `{` rather than `"` (every tenth byte of JSON) is found ~2.5× faster by indexOf.
 */
const MARKER_TAIL = ENTRY_MARKER.subarray(2)
/** Outside strings, `,"` only separates members (the same argument as for the marker). */
const MEMBER_SEPARATOR = Buffer.from(',"')

const decoder = new TextDecoder()
/**
 * Up to this size a buffer's text is decoded once, as one string its entries are slices of; a
 * larger one is decoded entry by entry, since V8 puts a string this long outside the young
 * generation, where it costs more to make and to collect (measured with npm run bench).
 */
const WHOLE_TEXT_BYTES = 1 << 17

/**
 * Whether a string's bytes decode to its text as they are: no escapes, no control characters (which
 * JSON forbids), and no leading byte order mark (which the decoder would drop).
 */
export function plainString(buf: Uint8Array, from: number, to: number): boolean {
  if (buf[from] === 0xef) return false
  for (let i = from; i < to; i++) {
    const b = buf[i] as number
    if (b === BACKSLASH || b < 0x20) return false
  }

  return true
}

/**
 * The entries of one buffer, found by marker. `at` proves the entry whose key starts at a given
 * offset and leaves it in `key`, `value` and `end`; consecutive calls reuse each other's searches.
 */
export class MarkedEntries {
  key = ''
  value: unknown = undefined
  /** Where the proven entry's value ends (exclusive): the `,` before the next key. */
  end = 0
  private view: Buffer
  /** Where the last search for the following entry found its marker (-1: none yet). */
  private nextMarker = -1
  /** The text of a range of the buffer; made when first needed. */
  private slice: ((from: number, to: number) => string) | undefined

  constructor(
    private readonly buf: Uint8Array,
    private readonly maxEntryBytes?: number,
  ) {
    this.view = Buffer.from(buf.buffer, buf.byteOffset, buf.length)
  }

  /** The first marker at or after `from`, or -1. */
  marker(from: number): number {
    const {buf, view} = this
    for (let tail = view.indexOf(MARKER_TAIL, from + 2); tail >= 0; tail = view.indexOf(MARKER_TAIL, tail + 1)) {
      if (buf[tail - 1] === COLON && buf[tail - 2] === QUOTE) return tail - 2
    }

    return -1
  }

  /**
   * Proves the entry whose key's opening quote is at `start` (a quote-free key, the marker right
   * after it, the next marker in this buffer), assuming `start` is at the set's level. False, with
   * nothing set, when that cannot be proven here.
   */
  at(start: number): boolean {
    const {buf, view} = this
    // The previous entry's search already found this one's marker: the first after its own value.
    const keyEnd = this.nextMarker > start ? this.nextMarker : this.marker(start + 1)
    if (keyEnd < 0 || view.indexOf(QUOTE, start + 1) !== keyEnd) return false
    const valueStart = keyEnd + 2
    const next = this.marker(valueStart + 1)
    this.nextMarker = next
    if (next < 0) return false
    const valueEnd = view.lastIndexOf(MEMBER_SEPARATOR, next)
    if (valueEnd <= valueStart) return false
    const {maxEntryBytes} = this
    if (maxEntryBytes !== undefined && (valueEnd - valueStart > maxEntryBytes || keyEnd + 1 - start > maxEntryBytes))
      return false

    const text = this.text()
    try {
      this.key = plainString(buf, start + 1, keyEnd)
        ? text(start + 1, keyEnd)
        : String(JSON.parse(text(start, keyEnd + 1)))
      this.value = JSON.parse(text(valueStart, valueEnd))
    } catch {
      return false
    }

    this.end = valueEnd
    return true
  }

  /**
   * How the buffer's ranges become text. ASCII (checked once, natively) is its own text: a small
   * buffer is decoded once and its entries are slices of that; a larger one entry by entry.
   */
  private text(): (from: number, to: number) => string {
    if (this.slice) return this.slice
    const {buf, view} = this
    if (!isAscii(view)) {
      this.slice = (from, to) => decoder.decode(buf.subarray(from, to))
    } else if (buf.length <= WHOLE_TEXT_BYTES) {
      const whole = view.toString('latin1')
      this.slice = (from, to) => whole.slice(from, to)
    } else {
      this.slice = (from, to) => view.toString('latin1', from, to)
    }

    return this.slice
  }
}

/** Consecutive entries proven from one start: the bytes `start`…`end` (exclusive), `count` entries. */
export interface EntryRun {
  start: number
  end: number
  count: number
}

/**
 * Every run of entries in `buf` that can be proven by marker, each from a start that is assumed,
 * not known, to be an entry's key at the set's level: the first marker after the previous run, with
 * its key. `onEntry` receives each entry of each run, in order. Whoever knows the envelope's state
 * must check each run's start (`EnvelopeSplitter.atEntryStart`) before trusting the run.
 */
export function markedRuns(
  buf: Uint8Array,
  onEntry: (key: string, value: unknown) => void,
  maxEntryBytes?: number,
): EntryRun[] {
  const entries = new MarkedEntries(buf, maxEntryBytes)
  const runs: EntryRun[] = []
  let from = 0
  for (;;) {
    const marker = entries.marker(from)
    if (marker < 0) return runs
    // Its key's opening quote (a marker at 0 has its key in an earlier buffer: no start here).
    let start = marker > 0 ? buf.lastIndexOf(QUOTE, marker - 1) : -1
    const run: EntryRun = {start, end: start, count: 0}
    while (start >= from && entries.at(start)) {
      onEntry(entries.key, entries.value)
      run.count++
      run.end = entries.end
      // A proven value ends at `,"`: the next key starts right after the comma.
      start = entries.end + 1
    }

    if (run.count > 0) runs.push(run)
    // The entry that could not be proven is the main thread's; the search resumes past its marker.
    from = Math.max(run.end, (run.count > 0 ? entries.marker(run.end) : marker) + 1)
  }
}

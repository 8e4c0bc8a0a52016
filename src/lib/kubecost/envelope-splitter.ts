/**
 * Streams a Kubecost response envelope — `{"code": 200, "data": [ {<key>: <entry>, ...}, ... ]}` —
 * and hands out one entry at a time, so a 200 MB day never sits in memory as one JSON value.
 *
 * Only the envelope is walked structurally. Each entry is first looked for with native byte searches
 * (see MarkedEntries): Kubecost writes every entry as `"<key>":{"name":"`, so the next such marker
 * ends the current entry, and `JSON.parse` accepting the bytes in between proves the cut. Entries
 * split and parsed on another thread are taken whole with `skip`, once `atEntryStart` vouches for
 * where they start. What it
 * cannot prove (an entry straddling chunks, another layout, whitespace, a parse failure) goes through
 * the byte scan (quotes, escapes, nesting), which the result never depends on. `data` may also be a single
 * object of entries (OpenCost's assets shape), `null`, or a list holding `{}` / `null` sets.
 * Other top-level fields (`code`, `message`, `warning`...) are collected into `meta`.
 *
 * Work is linear in the body's size whatever the size of one entry: the bytes of an unfinished
 * entry stay in the chunks they arrived in and are joined once, when the entry ends. Optional caps on
 * one entry's (or key's, or envelope field's) size and on the whole body bound the memory a hostile or
 * broken body can take. Chunks are held by reference until their entry ends: do not reuse them.
 */
import {escapeControl, excerpt} from '../sanitize.js'
import {MarkedEntries} from './marked-entries.js'

export interface Entry {
  /** Index of the set (step) the entry belongs to. */
  set: number
  key: string
  value: unknown
}

export type EnvelopeProblem = 'not-json' | 'truncated' | 'unexpected-shape' | 'too-large'

/** For `too-large`: which cap was hit, and where. */
export interface SizeLimitDetail {
  limit: 'entry' | 'body'
  maxBytes: number
  /** Byte offset in the body where the oversized value starts (the body: 0). */
  offset: number
  /** The entry's key (as Kubecost sent it: escape before showing), when the value is an entry. */
  key?: string
  /** What the oversized value is, for the message: `entry`, `key`, `envelope field "message"`. */
  what: string
}

export class EnvelopeError extends Error {
  constructor(
    readonly problem: EnvelopeProblem,
    message: string,
    readonly size?: SizeLimitDetail,
  ) {
    super(message)
    this.name = 'EnvelopeError'
  }
}

export interface SplitterLimits {
  /** Largest entry (or key, or envelope field) in bytes; unlimited when absent. */
  maxEntryBytes?: number
  /** Largest body in bytes; unlimited when absent. */
  maxBodyBytes?: number
}

const enum S {
  Start,
  EnvKeyOrEnd,
  EnvColon,
  EnvValue,
  EnvCommaOrEnd,
  SetsElemOrEnd,
  SetsCommaOrEnd,
  SetKeyOrEnd,
  SetColon,
  SetValue,
  SetCommaOrEnd,
  Done,
}

const enum T {
  None,
  EnvKey,
  EnvValue,
  SetKey,
  Entry,
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJ = 0x7b
const CLOSE_OBJ = 0x7d
const OPEN_ARR = 0x5b
const CLOSE_ARR = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
}

const decoder = new TextDecoder()
const EMPTY = new Uint8Array(0)

export class EnvelopeSplitter {
  readonly meta: Record<string, unknown> = {}
  /** Number of sets (steps) seen in `data`. */
  sets = 0
  /** First bytes of the body, for error messages. */
  head = ''
  bytes = 0
  /** Entries found by the marker search rather than the byte scan (for tests and profiles). */
  quickEntries = 0

  private buf: Uint8Array = EMPTY
  /** The marker search over `buf`, made when first needed. */
  private marked: MarkedEntries | undefined
  private pos = 0
  private state: S = S.Start
  private token: T = T.None
  /** Where the current token starts in `buf`; 0 when it began in an earlier chunk (see `pending`). */
  private tokenStart = 0
  /** Byte offset of the current token in the body. */
  private tokenOffset = 0
  /** The current token's bytes from earlier chunks, joined once when it ends. */
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  /** The few bytes left over outside a token (a split byte order mark or `null`). */
  private carry: Uint8Array = EMPTY
  // token scan state, resumable across chunks
  private depth = 0
  private inString = false
  private escaped = false
  private scalar = false
  private started = false

  private envKey = ''
  private setKey = ''
  private setIndex = -1
  private dataIsSetList = false

  constructor(private readonly limits: SplitterLimits = {}) {}

  push(chunk: Uint8Array): Entry[] {
    this.count(chunk)
    if (this.carry.length === 0) {
      this.buf = chunk
    } else {
      const joined = new Uint8Array(this.carry.length + chunk.length)
      joined.set(this.carry, 0)
      joined.set(chunk, this.carry.length)
      this.buf = joined
      this.carry = EMPTY
    }

    this.marked = undefined

    this.pos = 0
    this.tokenStart = 0
    const out: Entry[] = []
    this.run(out)
    if (this.token === T.None) {
      // a copy: at most a few bytes, and the chunk itself need not be kept
      if (this.pos < this.buf.length) this.carry = this.buf.slice(this.pos)
    } else {
      const rest = this.buf.subarray(this.tokenStart)
      if (rest.length > 0) {
        this.pending.push(rest)
        this.pendingBytes += rest.length
      }

      this.checkTokenSize(this.pendingBytes, this.token)
    }

    this.buf = EMPTY
    this.marked = undefined
    return out
  }

  /** Call at end of body; throws when the envelope was not complete. No entries are left then. */
  end(): Entry[] {
    if (this.state !== S.Done) {
      if (this.state === S.Start) throw new EnvelopeError('not-json', 'the body is empty')
      throw new EnvelopeError('truncated', `the JSON ends early (after ${this.bytes} bytes)`)
    }

    return []
  }

  /** The index of the set the next entry belongs to. */
  get set(): number {
    return this.setIndex
  }

  /**
   * Whether the next byte pushed is where an entry's key may start: inside a set, between entries,
   * with nothing pending. A run of entries found elsewhere (`markedRuns`) that starts here is sound.
   */
  atEntryStart(): boolean {
    return this.state === S.SetKeyOrEnd && this.token === T.None && this.carry.length === 0
  }

  /**
   * Takes `region` as `count` entries of the current set that were split and parsed elsewhere; the
   * last one's key is `lastKey`. Only valid at an entry start (`atEntryStart`), with `region` the
   * entries' exact bytes (from the first key's quote to the last value's end).
   */
  skip(region: Uint8Array, count: number, lastKey: string): void {
    if (!this.atEntryStart()) throw new Error('skip() outside a set, between entries')
    this.count(region)
    this.quickEntries += count
    this.setKey = lastKey
    this.state = S.SetCommaOrEnd
  }

  /** Whether the bytes of an unfinished entry are kept in `buffer` (by reference: it must not be reused). */
  holds(buffer: ArrayBufferLike): boolean {
    return this.pending.some(piece => piece.buffer === buffer)
  }

  /** Counts bytes of the body (and keeps its first ones for messages), against the body cap. */
  private count(bytes: Uint8Array): void {
    if (this.head.length < 200) this.head += decoder.decode(bytes.subarray(0, 200 - this.head.length))
    this.bytes += bytes.length
    const {maxBodyBytes} = this.limits
    if (maxBodyBytes !== undefined && this.bytes > maxBodyBytes) {
      throw new EnvelopeError('too-large', `the body is larger than ${maxBodyBytes} bytes`, {
        limit: 'body',
        maxBytes: maxBodyBytes,
        offset: 0,
        what: 'body',
      })
    }
  }

  private run(out: Entry[]): void {
    const {buf} = this
    while (this.pos < buf.length) {
      if (this.token !== T.None) {
        const end = this.scanToken()
        if (end < 0) return
        this.finishToken(end, out)
        continue
      }

      const b = buf[this.pos] as number
      if (isWs(b)) {
        this.pos++
        continue
      }

      switch (this.state) {
        case S.Start: {
          if (b === 0xef && this.pos === 0) {
            if (this.pos + 3 > buf.length) return // the mark is split across chunks: wait for the rest
            this.pos += 3 // UTF-8 byte order mark
            continue
          }

          if (b !== OPEN_OBJ) throw new EnvelopeError('not-json', 'the body is not a JSON object')
          this.state = S.EnvKeyOrEnd
          this.pos++
          break
        }

        case S.EnvKeyOrEnd: {
          if (b === CLOSE_OBJ) {
            this.state = S.Done
            this.pos++
          } else this.expectString(b, T.EnvKey)
          break
        }

        case S.EnvColon: {
          this.expect(b, COLON, S.EnvValue)
          break
        }

        case S.EnvValue: {
          if (this.envKey === 'data' && (b === OPEN_ARR || b === OPEN_OBJ)) {
            this.dataIsSetList = b === OPEN_ARR
            if (this.dataIsSetList) {
              this.state = S.SetsElemOrEnd
            } else {
              this.beginSet()
            }

            this.pos++
          } else {
            this.beginToken(T.EnvValue)
          }

          break
        }

        case S.EnvCommaOrEnd: {
          if (b === COMMA) {
            this.state = S.EnvKeyOrEnd
            this.pos++
          } else this.expect(b, CLOSE_OBJ, S.Done)
          break
        }

        case S.SetsElemOrEnd: {
          if (b === CLOSE_ARR) {
            this.state = S.EnvCommaOrEnd
            this.pos++
          } else if (b === OPEN_OBJ) {
            this.beginSet()
            this.pos++
          } else if (b === 0x6e /* n */) {
            // a null set counts as an empty step
            if (this.pos + 4 > buf.length) return
            if (decoder.decode(buf.subarray(this.pos, this.pos + 4)) !== 'null') {
              throw new EnvelopeError('unexpected-shape', '"data" holds something other than sets of entries')
            }

            this.pos += 4
            this.sets++
            this.setIndex++
            this.state = S.SetsCommaOrEnd
          } else {
            throw new EnvelopeError('unexpected-shape', '"data" holds something other than sets of entries')
          }

          break
        }

        case S.SetsCommaOrEnd: {
          if (b === COMMA) {
            this.state = S.SetsElemOrEnd
            this.pos++
          } else this.expect(b, CLOSE_ARR, S.EnvCommaOrEnd)
          break
        }

        case S.SetKeyOrEnd: {
          if (b === CLOSE_OBJ) {
            this.state = this.dataIsSetList ? S.SetsCommaOrEnd : S.EnvCommaOrEnd
            this.pos++
          } else if (b !== QUOTE || !this.quickEntry(out)) this.expectString(b, T.SetKey)
          break
        }

        case S.SetColon: {
          this.expect(b, COLON, S.SetValue)
          break
        }

        case S.SetValue: {
          this.beginToken(T.Entry)
          break
        }

        case S.SetCommaOrEnd: {
          if (b === COMMA) {
            this.state = S.SetKeyOrEnd
            this.pos++
          } else {
            this.expect(b, CLOSE_OBJ, this.dataIsSetList ? S.SetsCommaOrEnd : S.EnvCommaOrEnd)
          }

          break
        }

        case S.Done: {
          throw new EnvelopeError('unexpected-shape', 'unexpected data after the end of the JSON')
        }
      }
    }
  }

  /**
   * The entry whose key starts at `pos`, found by marker (see MarkedEntries) rather than by the byte
   * scan: `pos` is at the set's level here, so a parse that succeeds proves the cut. False, with
   * nothing consumed, when the entry cannot be proven; the byte scan then takes it.
   */
  private quickEntry(out: Entry[]): boolean {
    this.marked ??= new MarkedEntries(this.buf, this.limits.maxEntryBytes)
    const entries = this.marked
    if (!entries.at(this.pos)) return false
    this.setKey = entries.key
    out.push({set: this.setIndex, key: entries.key, value: entries.value})
    this.quickEntries++
    this.pos = entries.end
    this.state = S.SetCommaOrEnd
    return true
  }

  private beginSet(): void {
    this.sets++
    this.setIndex++
    this.state = S.SetKeyOrEnd
  }

  /** Byte offset in the body of `buf[index]`. */
  private offsetOf(index: number): number {
    return this.bytes - (this.buf.length - index)
  }

  private expect(b: number, want: number, next: S): void {
    if (b !== want) {
      throw new EnvelopeError(
        'unexpected-shape',
        `unexpected "${escapeControl(String.fromCharCode(b))}" at byte ${this.offsetOf(this.pos)}`,
      )
    }

    this.state = next
    this.pos++
  }

  private expectString(b: number, token: T): void {
    if (b !== QUOTE) {
      throw new EnvelopeError(
        'unexpected-shape',
        `expected a key at byte ${this.offsetOf(this.pos)}, found "${escapeControl(String.fromCharCode(b))}"`,
      )
    }

    this.beginToken(token)
  }

  private beginToken(token: T): void {
    this.token = token
    this.tokenStart = this.pos
    this.tokenOffset = this.offsetOf(this.pos)
    this.started = false
    this.depth = 0
    this.inString = false
    this.escaped = false
    this.scalar = false
  }

  /** Scans the current token from `pos`; returns its end (exclusive) or -1 when more bytes are needed. */
  private scanToken(): number {
    const buf = this.buf
    let i = this.pos
    const n = buf.length
    if (!this.started) {
      this.started = true
      const first = buf[i] as number
      if (first === QUOTE) {
        this.inString = true
      } else if (first === OPEN_OBJ || first === OPEN_ARR) {
        this.depth = 1
      } else {
        this.scalar = true
      }

      i++
    }

    if (this.scalar) {
      while (i < n) {
        const b = buf[i] as number
        if (b === COMMA || b === CLOSE_OBJ || b === CLOSE_ARR || isWs(b)) {
          this.pos = i
          return i
        }

        i++
      }

      this.pos = i
      return -1
    }

    let {depth, inString, escaped} = this
    while (i < n) {
      const b = buf[i++] as number
      if (inString) {
        if (escaped) escaped = false
        else if (b === BACKSLASH) escaped = true
        else if (b === QUOTE) {
          inString = false
          if (depth === 0) {
            this.pos = i
            return i
          }
        }
      } else if (b === QUOTE) inString = true
      else if (b === OPEN_OBJ || b === OPEN_ARR) depth++
      else if (b === CLOSE_OBJ || b === CLOSE_ARR) {
        depth--
        if (depth === 0) {
          this.pos = i
          return i
        }
      }
    }

    this.depth = depth
    this.inString = inString
    this.escaped = escaped
    this.pos = i
    return -1
  }

  /** Fails the body when the current token has grown past the entry cap. */
  private checkTokenSize(size: number, token: T): void {
    const {maxEntryBytes} = this.limits
    if (maxEntryBytes === undefined || size <= maxEntryBytes) return
    const what =
      token === T.Entry ? 'entry' : token === T.EnvValue ? `envelope field "${excerpt(this.envKey, 80)}"` : 'key'
    const key = token === T.Entry ? this.setKey : undefined
    throw new EnvelopeError(
      'too-large',
      `the ${what} at byte ${this.tokenOffset} is larger than ${maxEntryBytes} bytes`,
      {
        limit: 'entry',
        maxBytes: maxEntryBytes,
        offset: this.tokenOffset,
        what,
        ...(key === undefined ? {} : {key}),
      },
    )
  }

  /** The current token's bytes, ending at `end` in `buf`: joined from its chunks once, here. */
  private tokenBytes(end: number, token: T): Uint8Array {
    const last = this.buf.subarray(this.tokenStart, end)
    this.checkTokenSize(this.pendingBytes + last.length, token)
    if (this.pending.length === 0) return last
    const joined = new Uint8Array(this.pendingBytes + last.length)
    let at = 0
    for (const piece of this.pending) {
      joined.set(piece, at)
      at += piece.length
    }

    joined.set(last, at)
    this.pending = []
    this.pendingBytes = 0
    return joined
  }

  private parseToken(end: number, token: T): unknown {
    const text = decoder.decode(this.tokenBytes(end, token))
    try {
      return JSON.parse(text)
    } catch (error) {
      // V8 quotes the source in its message (newlines and all): keep only what went wrong and where.
      const message = (error as Error).message
      const position = /at position (\d+)/.exec(message)?.[1]
      const problem = excerpt(message.split(/, "| in JSON at position/)[0] ?? '', 80)
      throw new EnvelopeError(
        'unexpected-shape',
        `invalid JSON near byte ${this.tokenOffset + Number(position ?? 0)}${problem ? ` (${problem})` : ''}`,
      )
    }
  }

  private finishToken(end: number, out: Entry[]): void {
    const token = this.token
    this.token = T.None
    this.pos = end
    switch (token) {
      case T.EnvKey: {
        this.envKey = String(this.parseToken(end, token))
        this.state = S.EnvColon
        break
      }

      case T.EnvValue: {
        this.meta[this.envKey] = this.parseToken(end, token)
        this.state = S.EnvCommaOrEnd
        break
      }

      case T.SetKey: {
        this.setKey = String(this.parseToken(end, token))
        this.state = S.SetColon
        break
      }

      case T.Entry: {
        out.push({set: this.setIndex, key: this.setKey, value: this.parseToken(end, token)})
        this.state = S.SetCommaOrEnd
        break
      }

      case T.None: {
        break
      }
    }
  }
}

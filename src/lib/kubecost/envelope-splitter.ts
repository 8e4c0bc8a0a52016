/**
 * Streams a Kubecost response envelope — `{"code": 200, "data": [ {<key>: <entry>, ...}, ... ]}` —
 * and hands out one entry at a time, so a 200 MB day never sits in memory as one JSON value.
 *
 * Only the envelope is walked structurally; each entry's bytes are located with a fast scan
 * (quotes, escapes, nesting) and handed to the native `JSON.parse`. `data` may also be a single
 * object of entries (OpenCost's assets shape), `null`, or a list holding `{}` / `null` sets.
 * Other top-level fields (`code`, `message`, `warning`...) are collected into `meta`.
 */

export interface Entry {
  /** Index of the set (step) the entry belongs to. */
  set: number
  key: string
  value: unknown
}

export type EnvelopeProblem = 'not-json' | 'truncated' | 'unexpected-shape'

export class EnvelopeError extends Error {
  constructor(
    readonly problem: EnvelopeProblem,
    message: string,
  ) {
    super(message)
    this.name = 'EnvelopeError'
  }
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

export class EnvelopeSplitter {
  readonly meta: Record<string, unknown> = {}
  /** Number of sets (steps) seen in `data`. */
  sets = 0
  /** First bytes of the body, for error messages. */
  head = ''
  bytes = 0

  private buf: Uint8Array = new Uint8Array(0)
  private pos = 0
  private state: S = S.Start
  private token: T = T.None
  private tokenStart = 0
  // token scan state, resumable across chunks
  private depth = 0
  private inString = false
  private escaped = false
  private scalar = false

  private envKey = ''
  private setKey = ''
  private setIndex = -1
  private dataIsSetList = false

  push(chunk: Uint8Array): Entry[] {
    if (this.head.length < 200) this.head += decoder.decode(chunk.subarray(0, 200 - this.head.length))
    this.bytes += chunk.length
    const keepFrom = this.token === T.None ? this.pos : this.tokenStart
    const rest = this.buf.subarray(keepFrom)
    if (rest.length === 0) {
      this.buf = chunk
    } else {
      const joined = new Uint8Array(rest.length + chunk.length)
      joined.set(rest, 0)
      joined.set(chunk, rest.length)
      this.buf = joined
    }

    this.pos -= keepFrom
    this.tokenStart -= keepFrom
    const out: Entry[] = []
    this.run(out)
    return out
  }

  /** Call at end of body; throws when the envelope was not complete. */
  end(): void {
    if (this.state !== S.Done) {
      if (this.state === S.Start) throw new EnvelopeError('not-json', 'the body is empty')
      throw new EnvelopeError('truncated', `the JSON ends early (after ${this.bytes} bytes)`)
    }
  }

  private run(out: Entry[]): void {
    const buf = this.buf
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
          } else this.expectString(b, T.SetKey)
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

  private beginSet(): void {
    this.sets++
    this.setIndex++
    this.state = S.SetKeyOrEnd
  }

  private expect(b: number, want: number, next: S): void {
    if (b !== want) {
      throw new EnvelopeError(
        'unexpected-shape',
        `unexpected "${String.fromCharCode(b)}" at byte ${this.bytes - (this.buf.length - this.pos)}`,
      )
    }

    this.state = next
    this.pos++
  }

  private expectString(b: number, token: T): void {
    if (b !== QUOTE) {
      throw new EnvelopeError(
        'unexpected-shape',
        `expected a key at byte ${this.bytes - (this.buf.length - this.pos)}, found "${String.fromCharCode(b)}"`,
      )
    }

    this.beginToken(token)
  }

  private beginToken(token: T): void {
    this.token = token
    this.tokenStart = this.pos
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
    if (i === this.tokenStart && this.depth === 0 && !this.inString && !this.scalar) {
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

  private parseToken(end: number): unknown {
    const text = decoder.decode(this.buf.subarray(this.tokenStart, end))
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new EnvelopeError('unexpected-shape', `invalid JSON near byte ${this.bytes - (this.buf.length - end)}: ${(error as Error).message}`)
    }
  }

  private finishToken(end: number, out: Entry[]): void {
    const token = this.token
    this.token = T.None
    this.pos = end
    switch (token) {
      case T.EnvKey: {
        this.envKey = String(this.parseToken(end))
        this.state = S.EnvColon
        break
      }

      case T.EnvValue: {
        this.meta[this.envKey] = this.parseToken(end)
        this.state = S.EnvCommaOrEnd
        break
      }

      case T.SetKey: {
        this.setKey = String(this.parseToken(end))
        this.state = S.SetColon
        break
      }

      case T.Entry: {
        out.push({set: this.setIndex, key: this.setKey, value: this.parseToken(end)})
        this.state = S.SetCommaOrEnd
        break
      }

      case T.None: {
        break
      }
    }
  }
}

/**
 * Just enough of Thrift's compact protocol to write Parquet's page headers and file footer.
 * https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 */

const enum CompactType {
  True = 1,
  False = 2,
  I32 = 5,
  I64 = 6,
  Binary = 8,
  List = 9,
  Struct = 12,
}

export type ListElement = 'i32' | 'string' | 'struct'

const ELEMENT_TYPES: Record<ListElement, CompactType> = {
  i32: CompactType.I32,
  string: CompactType.Binary,
  struct: CompactType.Struct,
}

const encoder = new TextEncoder()

export class CompactWriter {
  private readonly bytes: number[] = []
  private lastField = 0
  private readonly fieldStack: number[] = []

  i32(id: number, value: number): this {
    this.field(id, CompactType.I32)
    this.varint(zigzag(BigInt(value)))
    return this
  }

  i64(id: number, value: number | bigint): this {
    this.field(id, CompactType.I64)
    this.varint(zigzag(BigInt(value)))
    return this
  }

  bool(id: number, value: boolean): this {
    // In the compact protocol the value lives in the field header.
    this.field(id, value ? CompactType.True : CompactType.False)
    return this
  }

  string(id: number, value: string): this {
    this.field(id, CompactType.Binary)
    this.binaryValue(encoder.encode(value))
    return this
  }

  struct(id: number, body: (w: this) => void): this {
    this.field(id, CompactType.Struct)
    this.structValue(body)
    return this
  }

  list<T>(id: number, element: ListElement, items: readonly T[], write: (w: this, item: T) => void): this {
    this.field(id, CompactType.List)
    const type = ELEMENT_TYPES[element]
    if (items.length < 15) {
      this.bytes.push((items.length << 4) | type)
    } else {
      this.bytes.push(0xf0 | type)
      this.varint(BigInt(items.length))
    }

    for (const item of items) write(this, item)
    return this
  }

  /** List element writers (no field header). */
  i32Value(value: number): this {
    this.varint(zigzag(BigInt(value)))
    return this
  }

  stringValue(value: string): this {
    this.binaryValue(encoder.encode(value))
    return this
  }

  structValue(body: (w: this) => void): this {
    this.fieldStack.push(this.lastField)
    this.lastField = 0
    body(this)
    this.bytes.push(0) // stop
    this.lastField = this.fieldStack.pop() as number
    return this
  }

  /** The bytes of a top-level struct written with `structValue`. */
  toBuffer(): Buffer {
    return Buffer.from(this.bytes)
  }

  private field(id: number, type: CompactType): void {
    const delta = id - this.lastField
    if (delta > 0 && delta <= 15) {
      this.bytes.push((delta << 4) | type)
    } else {
      this.bytes.push(type)
      this.varint(zigzag(BigInt(id)))
    }

    this.lastField = id
  }

  private binaryValue(data: Uint8Array): void {
    this.varint(BigInt(data.length))
    for (const b of data) this.bytes.push(b)
  }

  private varint(value: bigint): void {
    let v = value
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }

    this.bytes.push(Number(v))
  }
}

function zigzag(value: bigint): bigint {
  return value >= 0n ? value << 1n : (-value << 1n) - 1n
}

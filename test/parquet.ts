/** Reading Parquet files back with an independent reader (DuckDB's read_parquet and metadata functions). */
import {DuckDBInstance} from '@duckdb/node-api'

export interface SchemaColumn {
  name: string
  type: string | null
  logical_type: string | null
  converted_type: string | null
}

export interface ParquetFacts {
  schema: SchemaColumn[]
  compressions: string[]
  encodings: string[]
  rows: Array<Record<string, unknown>>
}

const literal = (path: string) => `'${path.replaceAll("'", "''")}'`

export async function readParquet(path: string): Promise<ParquetFacts> {
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    const schema = (
      await db.runAndReadAll(`SELECT name, type, logical_type, converted_type FROM parquet_schema(${literal(path)})`)
    )
      .getRowObjectsJS()
      .slice(1) as unknown as SchemaColumn[]
    const meta = (
      await db.runAndReadAll(`SELECT DISTINCT compression, encodings FROM parquet_metadata(${literal(path)})`)
    ).getRowObjectsJS()
    const rows = (await db.runAndReadAll(`SELECT * FROM read_parquet(${literal(path)})`)).getRowObjectsJS()
    return {
      schema,
      compressions: [...new Set(meta.map(m => m.compression as string))],
      encodings: [...new Set(meta.flatMap(m => (m.encodings as string).split(',').map(e => e.trim())))],
      rows: rows,
    }
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

// The benchmark's reference: DuckDB converting newline-delimited JSON allocations straight to a
// Snappy Parquet file. Usage: node bench-reference.mjs <input.ndjson> <output.parquet>
import {DuckDBInstance} from '@duckdb/node-api'

const [input, output] = process.argv.slice(2)
const instance = await DuckDBInstance.create(':memory:', {threads: '2'})
const db = await instance.connect()
const quote = s => `'${s.replaceAll("'", "''")}'`
await db.run(
  `COPY (SELECT * FROM read_json(${quote(input)}, format = 'newline_delimited')) TO ${quote(output)} (FORMAT parquet, COMPRESSION snappy)`,
)
db.closeSync()
instance.closeSync()

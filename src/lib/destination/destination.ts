/** Lets a run being stopped abandon a call in flight. */
export interface CallOptions {
  signal?: AbortSignal
}

/** Where files go: a local directory or an S3 bucket, with the same layout of keys. */
export interface Destination {
  /** For messages: `s3://bucket` or the directory path. */
  readonly description: string
  /** Keys (slash-separated, relative to the destination root) under `prefix`. */
  listKeys(prefix: string, options?: CallOptions): Promise<string[]>
  /** Publishes a finished local file at `key`, whole or not at all; an abort leaves nothing at `key`. */
  put(key: string, file: string, options?: CallOptions): Promise<void>
  /** Where `key` is, for messages: `s3://bucket/key` or a path. */
  locate(key: string): string
}

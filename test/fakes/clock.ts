import type {Clock} from '../../src/lib/wait.js'

/** A clock that only moves when slept on: waits run at once, and a test sees every sleep. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = []

  constructor(private time = 0) {}

  now(): number {
    return this.time
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    this.sleeps.push(ms)
    this.time += ms
  }
}

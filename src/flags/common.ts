import {Flags} from '@oclif/core'

import {type InputName, parsePositiveInteger, parseSeconds} from '../lib/validate.js'

/**
 * Building blocks of the flag groups: help headings, validated env-backed inputs, durations, and
 * where a value came from. Each flag declares the old exporter's environment variable as its
 * fallback (so the CronJob is configured by env vars alone) and validates once, naming the flag,
 * the variable and the bad value.
 */
/** Puts flags under one heading in --help. */
export function inGroup<T extends Record<string, object>>(helpGroup: string, flags: T): T {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, {...flag, helpGroup}])) as T
}

/**
 * One rule for every flag that takes several values: repeat it (`--x A --x B`) or give one
 * comma-separated value, which its parser splits (oclif hands an environment variable's whole value
 * to the parser, so the splitting lives there). Never greedy: oclif's default lets `--x A B` take B
 * too, and so swallows the value of a mistyped flag after it, which then fails as a bad value of
 * this one instead of as the unknown flag it is.
 */
export const repeatable = {multiple: true, multipleNonGreedy: true} as const

/** `env` and `parse` for a flag whose value is validated by `parse`, naming the flag and its variable. */
export function input<T>(name: InputName, parse: (input: string, name: InputName) => T) {
  return {env: name.env, parse: async (value: string) => parse(value, name)}
}

/**
 * Where a flag's value came from: the command line (`--name value`, `--name=value`) or its
 * environment variable; undefined when neither (a default). oclif itself does not say.
 */
export function flagSource(
  argv: readonly string[],
  flag: string,
  env: string | undefined,
  environment: Readonly<Record<string, string | undefined>>,
): 'flag' | 'env' | undefined {
  if (argv.some(arg => arg === `--${flag}` || arg.startsWith(`--${flag}=`))) return 'flag'
  return env !== undefined && environment[env] !== undefined && environment[env] !== '' ? 'env' : undefined
}

/** A duration flag given in seconds, held in milliseconds. */
export const seconds = (flag: string, env: string, defaultSeconds: number, description: string) =>
  Flags.custom<number>({
    ...input({flag, env}, parseSeconds),
    description: `${description}, in seconds`,
    default: defaultSeconds * 1000,
    defaultHelp: async () => String(defaultSeconds),
  })()

/**
 * `--poll-ms`, hidden: lets tests poll a fake quickly. Without it a command polls on the service's
 * own schedule, passed to `pollEvery`.
 */
export const pollFlag = Flags.custom<number>({hidden: true, ...input({flag: 'poll-ms'}, parsePositiveInteger)})()

/** The wait loop's poll interval: every `pollMs` when given, else from `initialMs` backing off to `maxMs`. */
export function pollEvery(
  pollMs: number | undefined,
  service: {initialMs: number; maxMs: number},
): {initialMs: number; maxMs: number} {
  return pollMs === undefined ? service : {initialMs: pollMs, maxMs: pollMs}
}

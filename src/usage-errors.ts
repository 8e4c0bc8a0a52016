import type {Errors, Interfaces} from '@oclif/core'

import {closest} from './closest.js'
import {UsageError} from './lib/errors.js'
import {redactCredentials} from './lib/validate.js'

/** What a usage error needs to know of the command that was run. */
export interface CommandLine {
  bin: string
  id: string
  flags: Readonly<Record<string, FlagDefinition | undefined>>
}

interface FlagDefinition {
  type: string
  env?: string
  hidden?: boolean
  required?: boolean
  allowNo?: boolean
  aliases?: string[]
  multiple?: boolean
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/**
 * oclif's parser errors as this CLI's own usage errors: one line (oclif's span several, with a "See
 * more help" line that a log turns into a literal \n), the closest flag for a mistyped one, and the
 * environment variable of a missing required flag. The parser leaves what it found on the error
 * (`parse.output`); the checks run in the order its validation runs them, so the first that holds is
 * the one that failed.
 */
export function usageError(error: Errors.CLIError, command: CommandLine): UsageError {
  const help = `${command.bin} ${command.id} --help lists its flags.`
  const {parse} = error as {
    parse?: {input?: {args: object}; output?: Omit<Interfaces.ParserOutput, 'flags'> & {flags: Record<string, unknown>}}
  }
  const output = parse?.output
  if (output && output.nonExistentFlags.length > 0) return unknownFlags(output.nonExistentFlags, command, help)
  if (output && parse.input && output.argv.length > Object.keys(parse.input.args).length)
    return unexpectedArguments(output.argv.map(String), command, help)

  const missing = output
    ? Object.entries(command.flags).filter(([name, flag]) => flag?.required && output.flags[name] === undefined)
    : []
  const others = lines(error.message)
    .filter(line => !/^Missing required flag /.test(line))
    .map(line => withEnv(line, command))
  if (missing.length === 0) return new UsageError(others.join('; '), {suggestions: [help]})
  const names = missing.map(([name, flag]) => (flag?.env ? `--${name} (${flag.env})` : `--${name}`))
  const single = missing.length === 1 && missing[0]
  return new UsageError([`Missing required flag${single ? '' : 's'} ${names.join(', ')}`, ...others].join('; '), {
    suggestions: [
      single && single[1]?.env
        ? `Give --${single[0]} or set ${single[1].env}.`
        : 'Give each flag, or set its environment variable.',
      help,
    ],
  })
}

function unknownFlags(tokens: readonly string[], command: CommandLine, help: string): UsageError {
  const candidates = Object.entries(command.flags).flatMap(([name, flag]) =>
    flag?.hidden
      ? []
      : [name, ...(flag?.aliases ?? []), ...(flag?.type === 'boolean' && flag.allowNo ? [`no-${name}`] : [])],
  )
  candidates.push('json', 'help')
  // The name alone: what follows an = may be a value that must not be shown (a URL with a password).
  const named = tokens.map(token => {
    const name = token.split('=')[0] ?? token
    const guess = name.startsWith('--') ? closest(name.slice(2), candidates) : undefined
    return {name, guess: guess && `--${guess}`}
  })
  const [first] = named
  if (named.length === 1 && first) {
    const guess = first.guess ? `. Did you mean ${first.guess}?` : ''
    return new UsageError(`Unknown flag ${first.name}${guess}`, {suggestions: [help]})
  }

  const list = named.map(({name, guess}) => (guess ? `${name} (did you mean ${guess}?)` : name))
  return new UsageError(`Unknown flags ${list.join(', ')}`, {suggestions: [help]})
}

function unexpectedArguments(args: readonly string[], command: CommandLine, help: string): UsageError {
  const shown = args.map(arg => `"${redactCredentials(arg)}"`).join(', ')
  const repeatable = Object.keys(command.flags).find(name => command.flags[name]?.multiple)
  return new UsageError(
    `Unexpected argument${args.length === 1 ? '' : 's'} ${shown}: ${command.bin} ${command.id} takes flags only`,
    {
      suggestions: [
        'Quote a value that contains spaces.',
        ...(repeatable
          ? [
              `Give a repeatable flag once per value (--${repeatable} A --${repeatable} B), or one comma-separated value.`,
            ]
          : []),
        help,
      ],
    },
  )
}

/** oclif's message lines without its colours, its heading and its pointer to --help. */
function lines(message: string): string[] {
  return message
    .replaceAll(ANSI, '')
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '' && !/^See more help with --help$|^The following errors? occurred:$/.test(line))
}

/** `--flag` in oclif's words with its environment variable, as every other message names it. */
function withEnv(text: string, command: CommandLine): string {
  return text.replaceAll(/--([a-z0-9-]+)(?![\w=-])/g, (match, name: string) => {
    const env = command.flags[name]?.env
    return env ? `${match} (${env})` : match
  })
}

import type {SettingLookup, SettingName} from './lib/settings.js'

/** What the command layer knows of a flag: its environment variable. */
type FlagDefinitions = Readonly<Record<string, {env?: string} | undefined>>

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/**
 * Setting ids (see src/lib/settings.ts) to the flags that define them: the running command's
 * first, then any other command's, so a message may point at another command's flag (crawl's hint
 * to run deploy-glue --crawler-role-arn).
 */
export function settingLookup(flagSets: readonly FlagDefinitions[]): SettingLookup {
  const names = new Map<string, SettingName>()
  for (const flags of flagSets) {
    for (const [flag, definition] of Object.entries(flags)) {
      const id = camel(flag)
      if (!names.has(id)) names.set(id, definition?.env ? {flag, env: definition.env} : {flag})
    }
  }

  return id => names.get(id)
}

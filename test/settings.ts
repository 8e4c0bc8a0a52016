/** Library messages as a user reads them: setting tokens rendered from the commands' own flags, as BaseCommand does. */
import BackfillPlan from '../src/commands/backfill-plan.js'
import Crawl from '../src/commands/crawl.js'
import DeployGlue from '../src/commands/deploy-glue.js'
import Export from '../src/commands/export.js'
import IamPolicy from '../src/commands/iam-policy.js'
import RefreshDataset from '../src/commands/refresh-dataset.js'
import VerifyBucketPolicy from '../src/commands/verify-bucket-policy.js'
import {renderSettings, renderSettingsDeep} from '../src/lib/settings.js'
import {settingLookup} from '../src/settings.js'

export const COMMANDS = {
  export: Export,
  'backfill-plan': BackfillPlan,
  'verify-bucket-policy': VerifyBucketPolicy,
  'deploy-glue': DeployGlue,
  crawl: Crawl,
  'refresh-dataset': RefreshDataset,
  'iam-policy': IamPolicy,
}

/** `text` as command `command` (export by default) shows it. */
export function named(text: string, command: keyof typeof COMMANDS = 'export'): string {
  return renderSettings(text, lookupFor(command))
}

/** Every string in `value` as command `command` shows it (a --json result). */
export function namedDeep<T>(value: T, command: keyof typeof COMMANDS = 'export'): T {
  return renderSettingsDeep(value, lookupFor(command))
}

function lookupFor(command: keyof typeof COMMANDS) {
  return settingLookup([COMMANDS[command].flags, ...Object.values(COMMANDS).map(c => c.flags)])
}

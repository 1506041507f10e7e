// The package's command, `npx alarm-to-pagerduty <drill|redrive> …`: scripts/bundle.mjs bundles it into
// dist/cli/index.cjs (AWS SDK inside, so the package keeps no dependencies of its own).
import { DRILL_USAGE, drillCommand } from './drill';
import { REDRIVE_USAGE, redriveCommand } from './redrive';

const COMMANDS = { drill: drillCommand, redrive: redriveCommand } as const;

export const CLI_USAGE = `
Tools for a deployed alarm-to-pagerduty pipeline.

Usage: npx alarm-to-pagerduty <command> [options]     (\`<command> --help\` for its options)

  drill     set an alarm to ALARM and back to OK, and wait until PagerDuty accepted each
  redrive   replay the parked queue (or a regional intake's dead-letter queue) through the handler
  -h, --help  print this help

Example:
  npx alarm-to-pagerduty drill --stack AlarmToPagerDuty
`;

/** Runs the named command with the rest of the arguments; resolves with the exit code. */
export async function cli(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? process.stderr : process.stdout).write(`${CLI_USAGE.trim()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name as keyof typeof COMMANDS] as
    ((args: string[]) => Promise<number>) | undefined;
  if (command === undefined) {
    process.stderr.write(`Unknown command '${name}'\n\n${CLI_USAGE.trim()}\n`);
    return 2;
  }
  return command(rest);
}

/** Both commands' usages, for tests and docs. */
export const USAGES = { drill: DRILL_USAGE, redrive: REDRIVE_USAGE } as const;

if (require.main === module) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `${process.argv[2] ?? 'alarm-to-pagerduty'} failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}

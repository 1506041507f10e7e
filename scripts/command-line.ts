// Option parsing shared by the npm scripts, so each behaves as people expect of a command: `--help` prints the
// usage on stdout and exits 0; an unknown option or a bad value prints what was wrong and the usage on stderr
// and exits 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;
interface Config<O extends Options> {
  args: string[];
  options: O & typeof HELP;
  strict: true;
  allowPositionals: false;
}
type Values<O extends Options> = ReturnType<typeof parseArgs<Config<O>>>['values'];

/** The values of the command line's options, or the process exits with the usage (0 on --help, 2 when wrong). */
export function parseCommandLine<const O extends Options>(
  usage: string,
  options: O,
  args: string[] = process.argv.slice(2),
): Values<O> {
  const config: Config<O> = { args, options: { ...options, ...HELP }, strict: true, allowPositionals: false };
  let values: Values<O>;
  try {
    values = parseArgs(config).values;
  } catch (error) {
    // parseArgs names the option and what was wrong with it ("Unknown option '--x'", "Option '--max <value>'…").
    return usageError(usage, error instanceof Error ? error.message : String(error));
  }
  if ((values as { help?: boolean }).help) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  return values;
}

/** Prints what was wrong with the command line and the usage, and exits 2. */
export function usageError(usage: string, problem: string): never {
  process.stderr.write(`${problem}\n\n${usage.trim()}\n`);
  process.exit(2);
}

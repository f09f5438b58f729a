// What each option is set to: the command line first, then the option's DRAINIT_* variable.
// The command line wins as a whole per option: `--stop-signal QUIT` replaces DRAINIT_STOP_SIGNAL's list.
import { UsageError } from "../config.ts";
import { ENVIRONMENT_NAMES, OPTIONS, OPTION_ROWS, longSpelling, type OptionName, type OptionSpec } from "./options.ts";
import type { CommandLine, Given } from "./parse.ts";

export type Environment = Readonly<Record<string, string | undefined>>;

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", ""]);

type ParserOf<N extends OptionName> = (typeof OPTIONS)[N]["parse"];
type ParsedValue<N extends OptionName> = ParserOf<N> extends (text: string, from: string) => infer T ? T : never;

export class Settings {
  constructor(
    private readonly commandLine: CommandLine,
    private readonly env: Environment,
  ) {}

  /** Whether the command line gave the option. */
  given(name: OptionName): boolean {
    return this.commandLine.options.has(name);
  }

  /** Whether the option is set at all, on the command line or by its variable. */
  isSet(name: OptionName): boolean {
    const spec: OptionSpec = OPTIONS[name];
    if (this.given(name)) return true;
    return spec.env !== null && (spec.kind === "flag" ? this.flag(name) === true : this.values(name).length > 0);
  }

  /** The values given, command line first, else the variable's (a comma-separated list for repeatable options). */
  values(name: OptionName): readonly Given[] {
    const given = this.commandLine.options.get(name);
    if (given) return given;
    const spec: OptionSpec = OPTIONS[name];
    const text = spec.env === null ? undefined : this.env[spec.env];
    if (text === undefined || text === "" || spec.env === null) return [];
    const from = spec.env;
    if (spec.kind === "repeatable") return text.split(/[\s,]+/).filter(Boolean).map((part) => ({ text: part, from }));
    return [{ text, from }];
  }

  /** The last value given (a later one overrides an earlier one), or null. */
  last(name: OptionName): Given | null {
    return this.values(name).at(-1) ?? null;
  }

  /** The last value through the option's own parser, or null when none is given. */
  parsed<N extends OptionName>(name: N): ParsedValue<N> | null {
    const given = this.last(name);
    const parse = OPTIONS[name].parse as ((text: string, from: string) => ParsedValue<N>) | null;
    if (given === null || parse === null) return null;
    return parse(given.text, given.from);
  }

  /** Every value through the option's parser. */
  parsedAll<N extends OptionName>(name: N): ParsedValue<N>[] {
    const parse = OPTIONS[name].parse as ((text: string, from: string) => ParsedValue<N>) | null;
    if (parse === null) return [];
    return this.values(name).map((given) => parse(given.text, given.from));
  }

  /** A flag: true or false when the command line or the variable says so, null when neither does. */
  flag(name: OptionName, useEnvironment = true): boolean | null {
    if (this.given(name)) return true;
    const spec: OptionSpec = OPTIONS[name];
    if (!useEnvironment || spec.env === null) return null;
    const text = this.env[spec.env];
    if (text === undefined) return null;
    const word = text.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    throw new UsageError(`${spec.env}: '${text}' is not true or false`);
  }

  /** How often a count option was given; its variable holds a number. */
  count(name: OptionName, useEnvironment = true): number {
    const uses = this.commandLine.options.get(name);
    if (uses) return uses.length;
    const spec: OptionSpec = OPTIONS[name];
    const text = !useEnvironment || spec.env === null ? undefined : this.env[spec.env];
    if (text === undefined || text.trim() === "") return 0;
    if (!/^\d+$/.test(text.trim())) throw new UsageError(`${spec.env}: '${text}' is not a number`);
    return Number(text.trim());
  }
}

/** A DRAINIT_* variable that matches no option is probably a typo worth a warning. */
export function unknownEnvironmentNames(env: Environment): string[] {
  const readsNone = new Map<string, string>(
    OPTION_ROWS.flatMap((row) => {
      const long = longSpelling(row);
      return row.env === null && long ? [[`DRAINIT_${row.long.toUpperCase().replace(/-/g, "_")}`, long] as [string, string]] : [];
    }),
  );
  return Object.keys(env)
    .filter((name) => name.startsWith("DRAINIT_") && !ENVIRONMENT_NAMES.has(name))
    .map((name) => {
      const option = readsNone.get(name);
      return option
        ? `${name} is set but ${option} reads no variable; ignored`
        : `${name} is set but drainit has no such option; ignored`;
    });
}

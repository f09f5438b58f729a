// The command line → options and the command, as getopt reads it: options stop at the first
// operand or at `--`; values may be attached (`-r15:3`, `-pSIGTERM`, `--drain=5s`) or follow
// (`-r 15:3`, `--drain 5s`); short flags combine (`-cv`, `-vvv`, `-cr15:3`).
import { UsageError } from "../config.ts";
import { OPTION_ROWS, longSpelling, takesValue, type OptionName, type OptionRow, type Personality } from "./options.ts";

/** One value as given, and where from: `--drain` on the command line, `DRAINIT_DRAIN` in the environment. */
export interface Given {
  readonly text: string;
  readonly from: string;
}

export interface CommandLine {
  /** Each option given, every use in order (a flag's uses have an empty text). */
  readonly options: ReadonlyMap<OptionName, readonly Given[]>;
  readonly command: readonly string[];
}

function lookupTables(personality: Personality): { long: Map<string, OptionRow>; short: Map<string, OptionRow> } {
  const long = new Map<string, OptionRow>();
  const short = new Map<string, OptionRow>();
  for (const row of OPTION_ROWS) {
    if (!row.personalities.includes(personality)) continue;
    const spelling = longSpelling(row);
    if (spelling) long.set(spelling.slice(2), row);
    if (row.short) short.set(row.short, row);
  }
  return { long, short };
}

const tables = new Map<Personality, ReturnType<typeof lookupTables>>();

/** Parses the options before the command. Throws UsageError naming the option at fault. */
export function parseOptions(args: readonly string[], personality: Personality): CommandLine {
  let table = tables.get(personality);
  if (!table) tables.set(personality, (table = lookupTables(personality)));
  const options = new Map<OptionName, Given[]>();
  const record = (row: OptionRow, text: string) => {
    const uses = options.get(row.long) ?? [];
    uses.push({ text, from: `--${row.long}` });
    options.set(row.long, uses);
  };

  let index = 0;
  while (index < args.length) {
    const arg = args[index]!;
    if (arg === "--") {
      index += 1;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;

    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      const row = table.long.get(name);
      if (!row) throw new UsageError(`unknown option '--${name}'`);
      if (takesValue(row)) {
        if (equals >= 0) record(row, arg.slice(equals + 1));
        else if (index + 1 < args.length) record(row, args[++index]!);
        else throw new UsageError(`--${name} needs a value`);
      } else {
        if (equals >= 0) throw new UsageError(`--${name} takes no value`);
        record(row, "");
      }
      index += 1;
      continue;
    }

    // A cluster of short options; by code point, so that a stray non-ASCII letter is named whole.
    const letters = Array.from(arg.slice(1));
    for (let at = 0; at < letters.length; at++) {
      const letter = letters[at]!;
      const row = table.short.get(letter);
      if (!row) throw new UsageError(`unknown option '-${letter}'`);
      if (!takesValue(row)) {
        record(row, "");
        continue;
      }
      const attached = letters.slice(at + 1).join("");
      if (attached !== "") record(row, attached);
      else if (index + 1 < args.length) record(row, args[++index]!);
      else throw new UsageError(`-${letter} needs a value`);
      break;
    }
    index += 1;
  }
  return { options, command: args.slice(index) };
}

// The --help text, written from the option table.
import { OPTION_ROWS, longSpelling, takesValue, type OptionRow, type Section } from "./options.ts";

const SECTIONS: readonly [Section, string][] = [
  ["process", "Process:"],
  ["drain", "Drain sequence, on the first stop signal (a second one skips the rest):"],
  ["output", "Output:"],
  ["utility", "Utilities:"],
  ["request", "Other:"],
  ["peer", "Flags of the inits drainit stands in for, under their names only:"],
];

const COLUMN = 27;
const WIDTH = 80;

function wrap(text: string, indent: number, first: number): string[] {
  const lines: string[] = [];
  let line = "";
  let room = WIDTH - first;
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

function optionLine(row: OptionRow): string {
  const names = [row.short ? `-${row.short}` : null, longSpelling(row)].filter(Boolean).join(", ");
  const left = `  ${row.short ? "" : "    "}${names}${takesValue(row) ? ` ${row.metavar}` : ""}`;
  const text = row.default === null ? row.help : `${row.help} (default ${row.default})`;
  const pad = left.length + 2 > COLUMN ? `\n${" ".repeat(COLUMN)}` : " ".repeat(COLUMN - left.length);
  const [first, ...rest] = wrap(text, COLUMN, COLUMN);
  return `${left}${pad}${first}${rest.map((line) => `\n${" ".repeat(COLUMN)}${line}`).join("")}\n`;
}

function environmentSection(): string {
  const names = OPTION_ROWS.flatMap((row) => (row.env ? [row.env] : []));
  const none = OPTION_ROWS.filter((row) => !row.env && row.section !== "peer").map((row) => longSpelling(row)!);
  const paragraph = (text: string) => wrap(text, 0, 0).map((line) => `${line}\n`).join("");
  return (
    paragraph(
      "Environment: each of these variables sets the option of the same name " +
        "(DRAINIT_DRAIN_HOOK: --drain-hook); the command line wins; flags take 1/0, " +
        "true/false, yes/no or on/off; repeatable options a comma-separated list:",
    ) +
    wrap(names.join(" "), 2, 2).map((line) => `  ${line}\n`).join("") +
    paragraph(`${none.join(", ")} read no variable, so that an environment cannot turn drainit into a utility.`)
  );
}

function buildHelp(): string {
  let text = `Usage: drainit [options] [--] <command> [args...]

A PID-1 init: runs <command>, forwards signals to it, reaps zombies, exits with
its code - and drains before stopping, so a rolling update drops no request.
Options stop at the command; values may be attached: -r15:3, --drain=5s.
Invoked as dumb-init, tini, docker-init, catatonit or podman-init, drainit takes
that init's defaults, variables and silence.
`;
  for (const [section, title] of SECTIONS) {
    text += `\n${title}\n`;
    for (const row of OPTION_ROWS) if (row.section === section) text += optionLine(row);
  }
  text += `
Durations: 500ms, 5s, 2m, 1h, 1d, or a number of seconds; at most 365d.

${environmentSection()}
Exit codes: the child's code, or 128+N when signal N ended it; 2 for a usage
error; 126 when the command cannot be executed, 127 when it is not found; 70
when drainit itself fails; 1 when --export-rootfs cannot read or write a file.
`;
  return text;
}

let help: string | null = null;

export function helpText(): string {
  help ??= buildHelp();
  return help;
}

// --drain-hook's value: an http(s) URL to POST to, or a command split by shell word rules.
import { UsageError, parseHttpUrl, type DrainHook } from "../config.ts";

/** Characters that make a shell operator outside quotes: they need a shell, which the hook does not get. */
const OPERATOR_START = new Set(["|", "&", ";", "<", ">", "(", ")"]);
/** Two-character operators, named whole in the error (`&&` rather than `&`). */
const TWO_CHARACTER_OPERATORS = new Set(["&&", "||", ";;", ">>", "<<", ">&", "<&", "|&", "<(", ">("]);
const BLANK = /[ \t\n]/;
/** Inside double quotes a backslash escapes only these, as in a POSIX shell. */
const ESCAPABLE_IN_DOUBLE_QUOTES = new Set(["$", "`", '"', "\\", "\n"]);

/**
 * Splits a command into words as a POSIX shell would before expansion: blanks separate words,
 * quotes and backslashes keep text together. Nothing is expanded (no shell runs the hook):
 * `$HOME` and `*.txt` stay as written. A `#` that starts a word starts a comment.
 */
export function splitShellWords(text: string, from: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (BLANK.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (char === "#" && !inWord) {
      break;
    } else if (char === "\\") {
      // A backslash before a newline joins the lines; before anything else it keeps that character.
      if (i + 1 < text.length && text[i + 1] !== "\n") word += text[i + 1];
      i += 1;
      inWord = true;
    } else if (char === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`${from}: unclosed quote in '${text}'`);
      word += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (char === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && ESCAPABLE_IN_DOUBLE_QUOTES.has(text[j + 1] ?? "")) {
          j += 1;
          if (text[j] === "\n") continue;
        }
        word += text[j];
      }
      if (j >= text.length) throw new UsageError(`${from}: unclosed quote in '${text}'`);
      i = j;
      inWord = true;
    } else if (OPERATOR_START.has(char)) {
      const pair = text.slice(i, i + 2);
      const operator = TWO_CHARACTER_OPERATORS.has(pair) ? pair : char;
      throw new UsageError(`${from}: '${operator}' needs a shell; write it as: sh -c '...'`);
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A hook is a URL when it looks like one; otherwise shell words, with no shell to run them. */
export function parseDrainHook(text: string, from = "--drain-hook"): DrainHook {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return { kind: "http", url: parseHttpUrl(trimmed, from) };
  const argv = splitShellWords(trimmed, from);
  if (argv.length === 0) throw new UsageError(`${from}: empty command`);
  return { kind: "command", argv, text: trimmed };
}

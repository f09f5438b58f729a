// --drain-hook's value: an http(s) URL to POST to, or a command split by shell word rules.
import { parse as parseShellWords } from "shell-quote";
import { UsageError, parseHttpUrl, type DrainHook } from "../config.ts";

/** The word-splitting library takes an unclosed quote as if it were closed; a shell would not. */
function hasUnclosedQuote(text: string): boolean {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\" && quote !== "'") i += 1;
    else if (quote === null && (char === "'" || char === '"')) quote = char;
    else if (char === quote) quote = null;
  }
  return quote !== null;
}

/** A hook is a URL when it looks like one; otherwise shell words, with no shell to run them. */
export function parseDrainHook(text: string, from = "--drain-hook"): DrainHook {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return { kind: "http", url: parseHttpUrl(trimmed, from) };
  if (hasUnclosedQuote(trimmed)) throw new UsageError(`${from}: unclosed quote in '${trimmed}'`);
  const argv: string[] = [];
  // Variables are kept as written: no shell runs the hook, so none expands them.
  for (const word of parseShellWords(trimmed, (name) => `$${name}`)) {
    if (typeof word === "string") argv.push(word);
    else if ("op" in word && word.op === "glob") argv.push(word.pattern);
    else if ("op" in word) {
      throw new UsageError(`${from}: '${word.op}' needs a shell; write it as: sh -c '...'`);
    }
  }
  if (argv.length === 0) throw new UsageError(`${from}: empty command`);
  return { kind: "command", argv, text: trimmed };
}

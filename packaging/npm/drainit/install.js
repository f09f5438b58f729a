#!/usr/bin/env node
// Puts the native executable from @drainit/linux-<arch> in place of bin/drainit, so that
// node_modules/.bin/drainit is drainit itself, PID 1 with no Node.js in front of it
// (the convention of esbuild and Bun).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const SUPPORTED = { linux: ["x64", "arm64"] };

function fail(message) {
  process.stderr.write(`drainit: ${message}\n`);
  process.exit(1);
}

if (!(SUPPORTED[process.platform] ?? []).includes(process.arch)) {
  // Not fatal for the install: the package may be installed on a laptop for an image built elsewhere.
  process.stderr.write(`drainit: no executable for ${process.platform}-${process.arch}; it runs on linux-x64 and linux-arm64\n`);
  process.exit(0);
}

const platformPackage = `@drainit/${process.platform}-${process.arch}`;
let source;
try {
  source = path.join(path.dirname(require.resolve(`${platformPackage}/package.json`)), "bin", "drainit");
} catch {
  fail(`${platformPackage} is not installed (were optional dependencies omitted?): reinstall without --omit=optional`);
}
const target = path.join(__dirname, "bin", "drainit");
const partial = `${target}.${process.pid}.partial`;
try {
  // A hard link costs no space; across file systems, a copy.
  try {
    fs.linkSync(source, partial);
  } catch {
    fs.copyFileSync(source, partial);
  }
  fs.chmodSync(partial, 0o755);
  // A rename replaces the stub in one step: bin links made by npm point at this path.
  fs.renameSync(partial, target);
} catch (error) {
  fs.rmSync(partial, { force: true });
  fail(`cannot put ${source} in place of ${target}: ${error.code ?? error.message}`);
}

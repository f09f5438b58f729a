// The drain file: present from the moment draining starts, for readiness probes that test a file.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export class DrainFile {
  private created = false;

  constructor(private readonly path: string) {}

  create(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(this.path, `draining since ${new Date().toISOString()}\n`);
    this.created = true;
  }

  /** Removes the file if drainit created it; a file it never made is left alone. */
  remove(): void {
    if (!this.created) return;
    this.created = false;
    rmSync(this.path, { force: true });
  }
}

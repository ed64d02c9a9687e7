import type { Readable, Writable } from "node:stream";

/** The streams a command reads and writes; tests pass their own to capture output. */
export interface CommandIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** A `hookwire` subcommand: takes the arguments after its name, resolves to the exit code. */
export type Command = (argv: string[], io: CommandIO) => Promise<number>;

export const processIO: CommandIO = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
};

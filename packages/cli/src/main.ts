const USAGE = `Usage: hookwire <command> [options]

Commands:
  start       run the whole system: Redis (when none answers), ingest and a worker
  help        show this text
`;

export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(`hookwire: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}

import { type Command, type CommandIO, processIO } from "./io";

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

// Commands load lazily so that `hookwire --help` and quick commands stay fast.
const COMMANDS: Record<string, CommandEntry> = {
  start: {
    summary: "run the whole system: Redis (when none answers), ingest and a worker",
    load: async () => (await import("./commands/start")).runStart,
  },
  policy: {
    summary: "try a policy: `policy eval` decides accesses read from stdin, `policy explain` an entry",
    load: async () => (await import("./commands/policy")).runPolicy,
  },
  validate: {
    summary: "check integration folders: manifests, templates, strict renders against sample contexts",
    load: async () => (await import("./commands/validate")).runValidate,
  },
  preview: {
    summary: "render exactly what a hook of an integration would send for an entry",
    load: async () => (await import("./commands/preview")).runPreview,
  },
  hooks: {
    summary: "list, show, create, delete, test and replay hooks through the API",
    load: async () => (await import("./commands/hooks")).runHooks,
  },
  deliveries: {
    summary: "list and show deliveries with their attempts, retry a failed one",
    load: async () => (await import("./commands/deliveries")).runDeliveries,
  },
  secrets: {
    summary: "seal every hook's secrets again under the first key of HOOKWIRE_SECRET_KEY (rotate)",
    load: async () => (await import("./commands/secrets")).runSecrets,
  },
  bench: {
    summary: "measure hookwire beside the machine's limit (npm run bench; --help for its options)",
    load: async () => (await import("./commands/bench")).runBench,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: hookwire <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun 'hookwire <command> --help' for a command's options.\n`;
}

export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`hookwire: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest, io);
}

export { type Command, type CommandIO, processIO } from "./io";
export { main } from "./main";

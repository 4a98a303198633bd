// The list of subcommands; each module adds its commands to the program (one command family per file).
import type { Command } from 'commander';

export const commands: Array<(program: Command) => void> = [
];

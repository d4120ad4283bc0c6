import type { Command } from 'commander';

export function inventoryCommands(): Command[] {
  return [];
}

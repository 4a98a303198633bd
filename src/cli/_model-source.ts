// Shared by every command taking --run: hub model repositories (`--run hf:<owner>/<repo>[@rev]`) are downloaded
// into the cache before the command runs, so the commands themselves only ever load local folders.
import type { Command } from 'commander';
import { fetchModelSource } from '../interop/resolve.ts';

/**
 * A commander preAction hook: replaces each `hf:` value of the action's --run (one value or a list) and --init by the
 * local snapshot folder, downloading what is missing (resumable, verified; see src/interop/hf-model.ts).
 */
export async function fetchRunSources(_program: Command, action: Command): Promise<void> {
  const isHub = (v: unknown) => typeof v === 'string' && v.startsWith('hf:');
  for (const key of ['run', 'init']) {
    const value = action.getOptionValue(key) as unknown;
    if (isHub(value)) action.setOptionValue(key, await fetchModelSource(value as string));
    else if (Array.isArray(value) && value.some(isHub)) {
      const local: string[] = [];
      for (const v of value as string[]) local.push(await fetchModelSource(v));
      action.setOptionValue(key, local);
    }
  }
}

// Typed settings for a command: a defaults object, then a JSON config file, then --key=value flags; strict and checked.
//
// nanoGPT's configurator, made strict: an unknown key or a value of the wrong type is a UserError naming the key and
// where it came from. Flag names are kebab-case (`--warmup-steps=100`), config-file keys camelCase or kebab-case.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { UserError } from '../util/errors.ts';

/** A zod object schema whose fields all have defaults, so `schema.parse({})` yields the defaults. */
export type SettingsSchema = z.ZodObject<z.ZodRawShape>;

/** The kind of value a field holds, read from its zod schema (defaults, nullables and optionals unwrapped). */
export function fieldKind(field: z.ZodType): { kind: string; nullable: boolean; options?: string[] } {
  let f = field as z.ZodType & { type: string; unwrap?: () => z.ZodType; def: { innerType?: z.ZodType }; options?: unknown[] };
  let nullable = false;
  for (let guard = 0; guard < 8; guard++) {
    if (f.type === 'nullable' || f.type === 'optional') nullable = true;
    if (f.type === 'nullable' || f.type === 'optional' || f.type === 'default' || f.type === 'prefault') f = f.def.innerType as typeof f;
    else break;
  }
  return { kind: f.type, nullable, options: f.type === 'enum' ? (f.options as string[]) : undefined };
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export function camel(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Parses one flag's text as the field's type; throws a UserError naming the flag. */
export function parseFlagValue(schema: SettingsSchema, key: string, text: string | boolean): unknown {
  const field = schema.shape[key] as z.ZodType | undefined;
  if (!field) throw new UserError(`unknown option --${kebab(key)} (known: ${Object.keys(schema.shape).map((k) => '--' + kebab(k)).join(', ')})`);
  const { kind, nullable, options } = fieldKind(field);
  const flag = `--${kebab(key)}`;
  if (typeof text === 'boolean') {
    if (kind === 'boolean') return text;
    throw new UserError(`${flag}: expected a value (${kind})`);
  }
  if (nullable && (text === 'null' || text === 'none')) return null;
  switch (kind) {
    case 'number': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) throw new UserError(`${flag}: expected a number, got '${text}'`);
      return v;
    }
    case 'boolean':
      if (['true', '1', 'yes'].includes(text)) return true;
      if (['false', '0', 'no'].includes(text)) return false;
      throw new UserError(`${flag}: expected true or false, got '${text}'`);
    case 'enum':
      if (!options!.includes(text)) throw new UserError(`${flag}: expected one of ${options!.join(', ')}, got '${text}'`);
      return text;
    default:
      return text;
  }
}

/**
 * Splits raw argv words into `--key=value` / `--key value` / `--flag` settings for `schema`. Words that are not
 * options are returned in `rest`. Unknown keys are errors.
 */
export function parseFlags(schema: SettingsSchema, words: string[]): { values: Record<string, unknown>; rest: string[] } {
  const values: Record<string, unknown> = {};
  const rest: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('--') || w === '--') {
      rest.push(w);
      continue;
    }
    const eq = w.indexOf('=');
    const name = eq >= 0 ? w.slice(2, eq) : w.slice(2);
    let key = camel(name);
    let text: string | boolean;
    if (eq >= 0) text = w.slice(eq + 1);
    else {
      const negated = name.startsWith('no-') && !(key in schema.shape) && camel(name.slice(3)) in schema.shape;
      if (negated) key = camel(name.slice(3));
      const field = schema.shape[key] as z.ZodType | undefined;
      if (!field) parseFlagValue(schema, key, ''); // throws "unknown option" with the list of known ones
      if (field && fieldKind(field).kind === 'boolean') {
        const next = words[i + 1];
        if (!negated && next !== undefined && ['true', 'false'].includes(next)) text = words[++i]!;
        else text = !negated;
      } else {
        const next = words[i + 1];
        if (next === undefined) throw new UserError(`--${name}: expected a value`);
        text = next;
        i++;
      }
    }
    values[key] = parseFlagValue(schema, key, text);
  }
  return { values, rest };
}

/** Reads a JSON config file of settings (camelCase or kebab-case keys); unknown keys are errors naming the file. */
export function readSettingsFile(schema: SettingsSchema, path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code ? `cannot read (${code})` : `not valid JSON (${(e as Error).message})`}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UserError(`${path}: expected a JSON object of settings`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = camel(k);
    if (!(key in schema.shape)) throw new UserError(`${path}: unknown setting "${k}" (known: ${Object.keys(schema.shape).join(', ')})`);
    out[key] = v;
  }
  return out;
}

/** Validates merged settings with the schema; the first problem becomes a UserError naming the key and its source. */
export function validateSettings<S extends SettingsSchema>(schema: S, merged: Record<string, unknown>, sources: Record<string, string> = {}): z.infer<S> {
  const r = schema.safeParse(merged);
  if (r.success) return r.data as z.infer<S>;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const k = (issue as { keys: string[] }).keys[0]!;
    throw new UserError(`unknown setting "${k}"`);
  }
  const key = String(issue.path[0] ?? '');
  const where = sources[key] ?? `setting "${key}"`;
  const got = merged[key];
  throw new UserError(`${where}: ${issue.message.replace(/^Invalid input: /, '')} (got ${JSON.stringify(got)})`);
}

/**
 * Resolves settings: schema defaults, then the config file (if any), then flags, then explicit values from the
 * command's own named options. Each value's source is kept for error messages.
 */
export function resolveSettings<S extends SettingsSchema>(
  schema: S,
  layers: { file?: string | null; flags?: string[]; explicit?: Record<string, unknown> },
): z.infer<S> {
  const merged: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  if (layers.file) {
    for (const [k, v] of Object.entries(readSettingsFile(schema, layers.file))) {
      merged[k] = v;
      sources[k] = `${layers.file}: setting "${k}"`;
    }
  }
  if (layers.flags) {
    const { values, rest } = parseFlags(schema, layers.flags);
    if (rest.length) throw new UserError(`unexpected argument '${rest[0]}'`);
    for (const [k, v] of Object.entries(values)) {
      merged[k] = v;
      sources[k] = `--${kebab(k)}`;
    }
  }
  for (const [k, v] of Object.entries(layers.explicit ?? {})) {
    if (v === undefined) continue;
    merged[k] = v;
    sources[k] = `--${kebab(k)}`;
  }
  return validateSettings(schema, merged, sources);
}

/** Settings as aligned `key = value` lines, for printing the resolved config. */
export function formatSettings(settings: Record<string, unknown>): string {
  const keys = Object.keys(settings);
  const w = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `  ${k.padEnd(w)} = ${JSON.stringify(settings[k])}`).join('\n');
}

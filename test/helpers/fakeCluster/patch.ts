import type { JsonPatchOperation, Patch } from '../../../lib/k8s/clusterClient.ts';
import { apiError } from './apiErrors.ts';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The object as it travels over the wire: JSON only (Dates become strings, undefined disappears). */
export const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value));

const segmentsOf = (path: string): string[] =>
  path
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));

function containerAt(document: unknown, segments: readonly string[], path: string): unknown {
  let current = document;
  for (const segment of segments) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isRecord(current)) current = current[segment];
    else current = undefined;
    if (current === undefined) throw apiError(422, 'Invalid', `the path ${path} does not exist`);
  }
  return current;
}

/** One RFC 6902 operation, in place; 422 like the apiserver for a failed test or a missing path. */
function applyOperation(document: unknown, operation: JsonPatchOperation): void {
  const segments = segmentsOf(operation.path);
  const last = segments.pop();
  if (last === undefined) throw apiError(422, 'Invalid', 'a patch of the whole object is not supported');
  const parent = containerAt(document, segments, operation.path);
  // A remove carries no value (JSON.stringify(undefined) is not JSON).
  const value = operation.value === undefined ? undefined : wire(operation.value);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (operation.op === 'add') parent.splice(index, 0, value);
    else if (operation.op === 'remove') parent.splice(index, 1);
    else if (operation.op === 'replace') parent[index] = value;
    else if (JSON.stringify(parent[index]) !== JSON.stringify(value))
      throw apiError(422, 'Invalid', `test of ${operation.path} failed`);
    return;
  }
  if (!isRecord(parent)) throw apiError(422, 'Invalid', `the path ${operation.path} does not exist`);
  const exists = Object.hasOwn(parent, last);
  if (operation.op !== 'add' && !exists)
    throw apiError(422, 'Invalid', `the path ${operation.path} does not exist`);
  if (operation.op === 'remove') delete parent[last];
  else if (operation.op === 'test') {
    if (JSON.stringify(parent[last]) !== JSON.stringify(value))
      throw apiError(422, 'Invalid', `test of ${operation.path} failed`);
  } else parent[last] = value;
}

/** RFC 7386 merge: objects merge key by key, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown, strategic: boolean): unknown {
  if (!isRecord(patch)) return wire(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (strategic && Array.isArray(value) && Array.isArray(result[key])) {
      result[key] = mergeByName(result[key], value);
    } else result[key] = mergePatch(result[key], value, strategic);
  }
  return result;
}

/** Strategic merge of lists whose items have a `name` (containers, env, ports …): merged by name. */
function mergeByName(target: readonly unknown[], patch: readonly unknown[]): unknown[] {
  if (!patch.every((item) => isRecord(item) && typeof item.name === 'string')) return wire([...patch]);
  const merged = [...target];
  for (const item of patch) {
    const index = merged.findIndex((t) => isRecord(t) && isRecord(item) && t.name === item.name);
    if (index < 0) merged.push(wire(item));
    else merged[index] = mergePatch(merged[index], item, true);
  }
  return merged;
}

/** The object with the patch applied (the input is not changed). */
export function applyPatch<T>(object: T, patch: Patch): T {
  if (patch.type === 'json') {
    const document = wire(object);
    for (const operation of patch.operations) applyOperation(document, operation);
    return document;
  }
  // What the apiserver stores is the JSON the merge produced, decoded as the object's type.
  const merged: T = JSON.parse(
    JSON.stringify(mergePatch(wire(object), patch.document, patch.type === 'strategic')),
  );
  return merged;
}

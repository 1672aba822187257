import type { KubernetesObject } from '@kubernetes/client-node';
import type { Selection } from '../../../lib/k8s/clusterClient.ts';

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/** One requirement of a label selector in the apiserver's string syntax (what kubectl -l takes). */
function requirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(term);
  if (set !== null) {
    const [, key = '', operator, values = ''] = set;
    const allowed = new Set(values.split(',').map((v) => v.trim()));
    return operator === 'in'
      ? (labels) => labels[key] !== undefined && allowed.has(labels[key])
      : (labels) => labels[key] === undefined || !allowed.has(labels[key]);
  }
  const inequality = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term);
  if (inequality !== null) {
    const [, key = '', value] = inequality;
    return (labels) => labels[key] !== value;
  }
  const equality = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term);
  if (equality !== null) {
    const [, key = '', value] = equality;
    return (labels) => labels[key] === value;
  }
  if (term.startsWith('!')) return (labels) => labels[term.slice(1)] === undefined;
  return (labels) => labels[term] !== undefined;
}

/** Splits at the commas that are not inside `( … )`. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += char;
  }
  out.push(current);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

/** Whether labels satisfy a label selector string. */
function labelsMatch(selector: string | undefined, labels: Readonly<Record<string, string>>): boolean {
  return terms(selector ?? '').every((term) => requirement(term)(labels));
}

/** Whether an object satisfies a field selector (metadata.name and metadata.namespace, as lib/ uses). */
function fieldsMatch(selector: string | undefined, object: KubernetesObject): boolean {
  return terms(selector ?? '').every((term) => {
    const [field, value] = term.split('=');
    if (field === 'metadata.name') return object.metadata?.name === value;
    if (field === 'metadata.namespace') return object.metadata?.namespace === value;
    throw new Error(`the fake cluster does not support the field selector ${term}`);
  });
}

/** Whether a list or watch selects the object. */
export function selects(selection: Selection, object: KubernetesObject): boolean {
  return (
    (selection.namespace === undefined || object.metadata?.namespace === selection.namespace) &&
    labelsMatch(selection.labelSelector, object.metadata?.labels ?? {}) &&
    fieldsMatch(selection.fieldSelector, object)
  );
}

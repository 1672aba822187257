import type { V1LabelSelector } from '@kubernetes/client-node';
import { InvalidSelectorError } from './errors.ts';

/** A namespaced object's address. */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * Renders a LabelSelector as the `labelSelector` query string the list calls take.
 *
 * @example labelSelectorString({ matchLabels: { app: 'web' } }) // 'app=web'
 */
export function labelSelectorString(selector: V1LabelSelector): string {
  const labels = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const expressions = (selector.matchExpressions ?? []).map((e) => {
    switch (e.operator) {
      case 'In':
        return `${e.key} in (${(e.values ?? []).join(',')})`;
      case 'NotIn':
        return `${e.key} notin (${(e.values ?? []).join(',')})`;
      case 'Exists':
        return e.key;
      case 'DoesNotExist':
        return `!${e.key}`;
      default:
        throw new InvalidSelectorError(`unknown label selector operator ${e.operator}`);
    }
  });
  return [...labels, ...expressions].join(',');
}

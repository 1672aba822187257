import { callK8s } from './call.ts';
import type { ClusterClient, ListedResource, ListQuery, ObjectOf } from './clusterClient.ts';
import type { K8sOperation } from './errors.ts';

/**
 * Lists every object a query selects, following `continue` tokens page by page.
 *
 * @example const pods = await listAll(cluster, 'pods', { namespace, labelSelector: 'app=web' })
 */
export async function listAll<R extends ListedResource>(
  cluster: ClusterClient,
  resource: R,
  query: ListQuery,
  op: K8sOperation,
): Promise<ObjectOf<R>[]> {
  const items: ObjectOf<R>[] = [];
  let continueToken: string | undefined;
  do {
    const page = { ...query, ...(continueToken === undefined ? {} : { continue: continueToken }) };
    const list = await callK8s(cluster.calls, op, (options) => cluster.list(resource, page, options));
    items.push(...list.items);
    continueToken = list.metadata?._continue === '' ? undefined : list.metadata?._continue;
  } while (continueToken !== undefined);
  return items;
}

import { type ContainerImages, type ContainerList, containerLists } from './recordedImages.ts';

/** What a rollback does with one container its release changed. */
export type ContainerRestore =
  /** Still on the release's image: patched back to `image`, the one recorded before the release. */
  | { readonly kind: 'restore'; readonly list: ContainerList; readonly name: string; readonly image: string }
  /** Already on the recorded image (restored earlier, or put back by hand). */
  | { readonly kind: 'restored'; readonly list: ContainerList; readonly name: string }
  /** Someone else set another image: their edit wins. */
  | { readonly kind: 'edited'; readonly list: ContainerList; readonly name: string; readonly image: string }
  /** The container is no longer in the pod template. */
  | { readonly kind: 'gone'; readonly list: ContainerList; readonly name: string };

/**
 * Decides, container by container, what the rollback of a release does: only a container that still
 * runs `released` (the image the release wrote) is patched back to its recorded image. `released`
 * undefined: the rollback's write already happened (the target says rolled back), so nothing is
 * patched again and a container not on its recorded image was changed by someone else.
 *
 * @example restorePlan(recorded, containerImagesOf(template), 'repo/magento:2.4.8')
 */
export function restorePlan(
  recorded: ContainerImages,
  current: ContainerImages,
  released: string | undefined,
): ContainerRestore[] {
  return containerLists.flatMap((list) =>
    Object.entries(recorded[list]).map(([name, previous]): ContainerRestore => {
      const now = current[list][name];
      if (now === undefined) return { kind: 'gone', list, name };
      if (now === previous) return { kind: 'restored', list, name };
      if (now === released) return { kind: 'restore', list, name, image: previous };
      return { kind: 'edited', list, name, image: now };
    }),
  );
}

/** The images the plan writes, by list and container name. */
export function restoredImages(plan: readonly ContainerRestore[]): ContainerImages {
  const of = (list: ContainerList) =>
    Object.fromEntries(
      plan.flatMap((c) => (c.kind === 'restore' && c.list === list ? [[c.name, c.image]] : [])),
    );
  return { initContainers: of('initContainers'), containers: of('containers') };
}

const containersLabel = (names: readonly string[]): string =>
  `${names.length === 1 ? 'container' : 'containers'} ${names.join(', ')}`;

/**
 * Why the target is not (wholly) back on its recorded images, naming each container left as it is,
 * e.g. `container nginx not restored: edited by someone else (image now repo/magento:hotfix);
 * container php-fpm restored`; undefined when every container is restored.
 */
export function notRestoredReason(plan: readonly ContainerRestore[]): string | undefined {
  const byImage = new Map<string, string[]>();
  const gone: string[] = [];
  const restored: string[] = [];
  for (const c of plan) {
    if (c.kind === 'edited') byImage.set(c.image, [...(byImage.get(c.image) ?? []), c.name]);
    else if (c.kind === 'gone') gone.push(c.name);
    else restored.push(c.name);
  }
  if (byImage.size === 0 && gone.length === 0) return undefined;
  return [
    ...[...byImage].map(
      ([image, names]) =>
        `${containersLabel(names)} not restored: edited by someone else (image now ${image})`,
    ),
    ...(gone.length === 0 ? [] : [`${containersLabel(gone)} not restored: gone from the pod template`]),
    ...(restored.length === 0 ? [] : [`${containersLabel(restored)} restored`]),
  ].join('; ');
}

import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { z } from 'zod';
import { imageRepository } from './imageRef.ts';

/**
 * The container lists of a pod template whose images a release changes, init containers first.
 * They are kept apart because their JSON patch paths differ.
 */
export const containerLists = ['initContainers', 'containers'] as const;
export type ContainerList = (typeof containerLists)[number];

/** Images by container name, per list: what a release changes and what its rollback restores. */
export type ContainerImages = Readonly<Record<ContainerList, Readonly<Record<string, string>>>>;

/**
 * The images of the template's containers, by name; only those of `repository` when it is given
 * (the shop's image: sidecars of other images are not the release's).
 */
export function containerImagesOf(template: V1PodTemplateSpec, repository?: string): ContainerImages {
  const of = (list: ContainerList): Record<string, string> =>
    Object.fromEntries(
      (template.spec?.[list] ?? []).flatMap((c) =>
        c.image !== undefined && (repository === undefined || imageRepository(c.image) === repository)
          ? [[c.name, c.image]]
          : [],
      ),
    );
  return { initContainers: of('initContainers'), containers: of('containers') };
}

/** Every image of the set, init containers first, each list in its order. */
export const imagesIn = (images: ContainerImages): string[] =>
  containerLists.flatMap((list) => Object.values(images[list]));

/** Whether both sets name the same containers with the same images (order does not matter). */
export function sameImages(a: ContainerImages, b: ContainerImages): boolean {
  return containerLists.every((list) => {
    const [left, right] = [Object.entries(a[list]), b[list]];
    return left.length === Object.keys(right).length && left.every(([name, image]) => right[name] === image);
  });
}

/** The same containers, every one running `image`. */
export const allRunning = (images: ContainerImages, image: string): ContainerImages => ({
  initContainers: Object.fromEntries(Object.keys(images.initContainers).map((name) => [name, image])),
  containers: Object.fromEntries(Object.keys(images.containers).map((name) => [name, image])),
});

/** What a release records on each target: the images its containers ran before it. */
export interface RecordedImages {
  readonly release: string;
  readonly images: ContainerImages;
}

const recordSchema = z.object({
  release: z.string().min(1),
  initContainers: z.record(z.string(), z.string()).default({}),
  containers: z.record(z.string(), z.string()).default({}),
});

/** The annotation value recording `images` for `release`: `{"release","initContainers","containers"}`. */
export const recordValue = (release: string, images: ContainerImages): string =>
  JSON.stringify({ release, initContainers: images.initContainers, containers: images.containers });

const parsedJson = (raw: string): unknown => {
  try {
    return JSON.parse(raw);
  } catch {
    // A damaged annotation counts as none recorded; preflight records a fresh one.
    return undefined;
  }
};

/** The record an annotation value holds; undefined when it is absent or damaged. */
export function parseRecord(raw: string | undefined): RecordedImages | undefined {
  if (raw === undefined) return undefined;
  const parsed = recordSchema.safeParse(parsedJson(raw));
  if (!parsed.success) return undefined;
  const { release, initContainers, containers } = parsed.data;
  return { release, images: { initContainers, containers } };
}

/**
 * The record of a release made before images were recorded: the whole pod template as JSON
 * `{ release, template }`. Its images of `repository` are what that release's rollback restores,
 * so a release in flight across the upgrade still rolls back (and only its images).
 */
export function parseTemplateRecord(raw: string | undefined, repository: string): RecordedImages | undefined {
  if (raw === undefined) return undefined;
  const value = parsedJson(raw) as { release?: unknown; template?: unknown } | undefined;
  if (typeof value?.release !== 'string' || typeof value.template !== 'object' || value.template === null) {
    return undefined;
  }
  return {
    release: value.release,
    images: containerImagesOf(value.template as V1PodTemplateSpec, repository),
  };
}

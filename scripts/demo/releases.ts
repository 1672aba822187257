import type { DemoLane } from './lane.ts';

/** One release the demo ships through the rollout function, as a CodePipeline job would. */
export interface ReleasePlan {
  /** Short name in the terminal and the report. */
  readonly label: string;
  /** A release tag of localhost/m2/magento (scripts/local/images/releases.ts). */
  readonly imageTag: string;
  /** The job's UserParameters besides namespace and imageTag (migrate, timeoutSeconds, …). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Storefront load after the release returned (real-node lane): covers the old pods' shutdown. */
  readonly tailSeconds: number;
  /** Lanes the release means something on (a behaviour that needs a process exists on real nodes only). */
  readonly lanes: readonly DemoLane[];
}

/**
 * The releases, in order. Each runs under storefront load on real nodes, and each gets its own
 * block in the report's rollout plot, so another release is one more entry here.
 */
const demoReleases: readonly ReleasePlan[] = [
  {
    label: 'new image',
    imageTag: '2.4.8',
    params: { migrate: 'auto' },
    // base/web.yaml's shutdown: nginx quits at t = 30 s (preStop), php-fpm at 35 s; 5 s more.
    tailSeconds: 40,
    lanes: ['kwok', 'real-nodes'],
  },
  {
    label: 'broken image',
    imageTag: '2.4.8-crashloop',
    // Skips the migration gate: a crash-looping image would fail its migration Job first (and then
    // nothing else changes); what this release shows is the web rollback.
    params: { migrate: 'never', timeoutSeconds: 120 },
    // Its new pods never served; the tail only shows the storefront after the rollback.
    tailSeconds: 15,
    lanes: ['kwok', 'real-nodes'],
  },
  {
    label: 'storefront 500',
    // Its pods become Ready (php-fpm's ping answers) while every page answers 500: only the smoke
    // checks on its preview pod can tell, before any customer request reaches it.
    imageTag: '2.4.8-storefront-500',
    params: { migrate: 'never', timeoutSeconds: 120 },
    tailSeconds: 15,
    // KWOK pods answer no HTTP (the KWOK shop turns the smoke checks off).
    lanes: ['real-nodes'],
  },
];

/** The releases of `lane`, in order. */
export const releasesOf = (lane: DemoLane): ReleasePlan[] =>
  demoReleases.filter((r) => r.lanes.includes(lane));

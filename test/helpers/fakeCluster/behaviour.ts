/**
 * What a container of an image does once its pod is scheduled — the fake kubelet's script. The
 * defaults follow the image markers of the embedded cluster's KWOK stages (scripts/local/kwok):
 * `never-ready`, `pull-error`, `crashloop`, `job-fail`, plus `job-hang` (a Job pod that never ends).
 * - `ok`: a Deployment's container turns Ready after `readinessDelayMs`; a Job's exits 0 after `jobRunMs`
 * - `never-ready`: runs, never Ready
 * - `pull-error`: ErrImagePull after `pullErrorMs`, ImagePullBackOff after twice that, and stays there
 * - `crashloop`: exits 1 every `crashLoopMs`, waiting in CrashLoopBackOff between, restartCount rising
 * - `fail`: a Job's container exits 1 after `jobRunMs` (a Deployment's crash-loops)
 * - `hang`: runs and is Ready, a Job's never exits
 */
type ContainerRun = 'ok' | 'never-ready' | 'pull-error' | 'crashloop' | 'fail' | 'hang';

export interface ImageBehaviour {
  readonly run: ContainerRun;
  /** Lines the container writes to its log (the migration's tail on failure). */
  readonly log?: readonly string[];
}

/** How long the fake kubelet takes for each step, in the test clock's milliseconds. */
export interface KubeletTiming {
  readonly readinessDelayMs: number;
  readonly pullErrorMs: number;
  readonly crashLoopMs: number;
  readonly jobRunMs: number;
  /** A deleted pod is Terminating this long before it is gone. */
  readonly terminationMs: number;
}

export const defaultTiming: KubeletTiming = Object.freeze({
  readinessDelayMs: 1000,
  pullErrorMs: 1000,
  crashLoopMs: 2000,
  jobRunMs: 2000,
  terminationMs: 500,
});

const markers: readonly (readonly [string, ContainerRun])[] = [
  ['never-ready', 'never-ready'],
  ['pull-error', 'pull-error'],
  ['crashloop', 'crashloop'],
  ['job-fail', 'fail'],
  ['job-hang', 'hang'],
];

/** The behaviour an image's name asks for (the KWOK markers), `ok` for any other image. */
function markerBehaviour(image: string): ImageBehaviour {
  const run = markers.find(([marker]) => image.includes(marker))?.[1] ?? 'ok';
  return run === 'fail'
    ? { run, log: ['Running setup:upgrade', 'SQLSTATE[42S01]: Base table or view already exists'] }
    : { run, log: [`${image} started`] };
}

/** Which behaviour a container gets: the most specific registered one (image in one Deployment, image), else the marker's. */
export class Behaviours {
  readonly #byImage = new Map<string, ImageBehaviour>();
  readonly #byDeployment = new Map<string, ImageBehaviour>();

  set(image: string, behaviour: ImageBehaviour, deployment?: string): void {
    if (deployment === undefined) this.#byImage.set(image, behaviour);
    else this.#byDeployment.set(`${deployment}\n${image}`, behaviour);
  }

  of(image: string, deployment: string | undefined): ImageBehaviour {
    return (
      (deployment === undefined ? undefined : this.#byDeployment.get(`${deployment}\n${image}`)) ??
      this.#byImage.get(image) ??
      markerBehaviour(image)
    );
  }
}

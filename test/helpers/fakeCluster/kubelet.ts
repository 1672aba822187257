import type {
  V1Container,
  V1ContainerStatus,
  V1Pod,
  V1PodCondition,
  V1PodStatus,
} from '@kubernetes/client-node';
import type { Behaviours, ImageBehaviour, KubeletTiming } from './behaviour.ts';

type ContainerPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** One container at one moment: its status, whether it is Ready (since when), and when it next changes. */
interface ContainerView {
  readonly status: V1ContainerStatus;
  readonly phase: ContainerPhase;
  /** Age of the pod at which the container turned Ready; undefined while it is not. */
  readonly readyAt: number | undefined;
  /** Age of the pod at which this view stops being true (undefined: never, as far as controllers care). */
  readonly changesAt: number | undefined;
}

const iso = (ms: number): Date => new Date(ms);

interface Moment {
  readonly age: number;
  readonly startedAt: number;
  readonly timing: KubeletTiming;
  readonly inJob: boolean;
}

const base = (container: V1Container) => ({
  name: container.name,
  image: container.image ?? '',
  imageID: '',
});

function running(
  container: V1Container,
  m: Moment,
  readyAt: number | undefined,
  changesAt?: number,
): ContainerView {
  const ready = readyAt !== undefined && m.age >= readyAt;
  return {
    status: {
      ...base(container),
      ready,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: iso(m.startedAt) } },
    },
    phase: 'Running',
    readyAt: ready ? readyAt : undefined,
    changesAt: ready ? changesAt : (readyAt ?? changesAt),
  };
}

function waiting(container: V1Container, reason: string, message: string, changesAt?: number): ContainerView {
  return {
    status: { ...base(container), ready: false, restartCount: 0, state: { waiting: { reason, message } } },
    phase: 'Pending',
    readyAt: undefined,
    changesAt,
  };
}

function exited(container: V1Container, m: Moment, exitCode: number, at: number): ContainerView {
  return {
    status: {
      ...base(container),
      ready: false,
      restartCount: 0,
      state: {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          startedAt: iso(m.startedAt),
          finishedAt: iso(m.startedAt + at),
        },
      },
    },
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    readyAt: undefined,
    changesAt: undefined,
  };
}

function crashLooping(container: V1Container, m: Moment): ContainerView {
  const every = m.timing.crashLoopMs;
  if (m.age < every) return running(container, m, undefined, every);
  const restarts = Math.floor(m.age / every);
  return {
    status: {
      ...base(container),
      ready: false,
      restartCount: restarts,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${every / 1000}s restarting failed container=${container.name}`,
        },
      },
      lastState: {
        terminated: {
          exitCode: 1,
          reason: 'Error',
          startedAt: iso(m.startedAt + (restarts - 1) * every),
          finishedAt: iso(m.startedAt + restarts * every),
        },
      },
    },
    phase: 'Running',
    readyAt: undefined,
    changesAt: undefined,
  };
}

function pullFailing(container: V1Container, m: Moment): ContainerView {
  const step = m.timing.pullErrorMs;
  const image = container.image ?? '';
  if (m.age < step) return waiting(container, 'ContainerCreating', '', step);
  if (m.age < 2 * step)
    return waiting(container, 'ErrImagePull', `failed to pull image "${image}"`, 2 * step);
  return waiting(container, 'ImagePullBackOff', `Back-off pulling image "${image}"`);
}

function containerView(container: V1Container, behaviour: ImageBehaviour, m: Moment): ContainerView {
  const { readinessDelayMs, jobRunMs } = m.timing;
  switch (behaviour.run) {
    case 'pull-error':
      return pullFailing(container, m);
    case 'never-ready':
      return running(container, m, undefined);
    case 'hang':
      return running(container, m, 0);
    case 'crashloop':
      return crashLooping(container, m);
    case 'fail':
      if (!m.inJob) return crashLooping(container, m);
      return m.age < jobRunMs ? running(container, m, 0, jobRunMs) : exited(container, m, 1, jobRunMs);
    default:
      if (!m.inJob) return running(container, m, readinessDelayMs);
      return m.age < jobRunMs ? running(container, m, 0, jobRunMs) : exited(container, m, 0, jobRunMs);
  }
}

const podPhase = (phases: readonly ContainerPhase[], inJob: boolean): ContainerPhase => {
  if (inJob && phases.includes('Failed')) return 'Failed';
  if (inJob && phases.length > 0 && phases.every((p) => p === 'Succeeded')) return 'Succeeded';
  return phases.includes('Pending') ? 'Pending' : 'Running';
};

const condition = (type: string, status: boolean, at: number): V1PodCondition => ({
  type,
  status: status ? 'True' : 'False',
  lastTransitionTime: iso(at),
});

/** A pod's status at one moment, and when it would next change. */
export interface PodView {
  readonly status: V1PodStatus;
  readonly ready: boolean;
  /** Time the pod turned Ready (ms since epoch), when it is. */
  readonly readySince: number | undefined;
  readonly changesAt: number | undefined;
}

/** What the fake kubelet reports for a pod at `now`, given what its containers' images do. */
export function podView(
  pod: V1Pod,
  owner: string | undefined,
  behaviours: Behaviours,
  timing: KubeletTiming,
  now: number,
): PodView {
  const startedAt = new Date(pod.metadata?.creationTimestamp ?? now).getTime();
  const inJob = pod.spec?.restartPolicy === 'Never' || pod.spec?.restartPolicy === 'OnFailure';
  const moment: Moment = { age: now - startedAt, startedAt, timing, inJob };
  const views = (pod.spec?.containers ?? []).map((c) =>
    containerView(c, behaviours.of(c.image ?? '', owner), moment),
  );
  const phase = podPhase(
    views.map((v) => v.phase),
    inJob,
  );
  const ready = phase === 'Running' && views.length > 0 && views.every((v) => v.readyAt !== undefined);
  const readyAge = ready ? Math.max(...views.map((v) => v.readyAt ?? 0)) : undefined;
  const readySince = readyAge === undefined ? undefined : startedAt + readyAge;
  const changes = views.flatMap((v) => (v.changesAt === undefined ? [] : [startedAt + v.changesAt]));
  return {
    status: {
      phase,
      startTime: iso(startedAt),
      hostIP: '10.0.0.1',
      podIP: '10.244.0.10',
      conditions: [
        condition('PodScheduled', true, startedAt),
        condition('Initialized', true, startedAt),
        condition('ContainersReady', ready, readySince ?? startedAt),
        condition('Ready', ready, readySince ?? startedAt),
      ],
      containerStatuses: views.map((v) => v.status),
    },
    ready,
    readySince,
    changesAt: changes.length === 0 ? undefined : Math.min(...changes),
  };
}

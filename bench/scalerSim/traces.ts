/** A workload replayed through every scaler: when messages arrive and how long each takes. */
export interface Trace {
  readonly id: string;
  readonly title: string;
  /** Simulated seconds (long enough to see the scale-down after the work). */
  readonly durationSeconds: number;
  /** Arrival times in seconds, ascending. */
  readonly arrivals: readonly number[];
  /** Median processing time of one message, seconds; the spread is log-normal (sigma 0.3) unless fixed. */
  readonly secondsPerMessage: number;
  readonly fixedServiceTime: boolean;
  /** The consumer's --max-messages (batch size). */
  readonly maxMessages: number;
  readonly maxReplicas: number;
  /** Replicas the work needs at its peak: the "target" of time-until-target. */
  readonly targetReplicas: number;
}

const range = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let t = from; t < to; t += step) out.push(t);
  return out;
};

/** Messages spread evenly over [from, to) at `perSecond`. */
const steady = (from: number, to: number, perSecond: number): number[] => range(from, to, 1 / perSecond);

export const traces: readonly Trace[] = [
  {
    id: 'T1',
    title: 'burst of 10,000 product updates',
    durationSeconds: 40 * 60,
    arrivals: Array.from({ length: 10_000 }, () => 60),
    secondsPerMessage: 2,
    fixedServiceTime: false,
    maxMessages: 10,
    maxReplicas: 100,
    targetReplicas: 100,
  },
  {
    id: 'T2',
    title: 'square wave 60 s on / 60 s off, 30 min (5 msg/s when on)',
    durationSeconds: 45 * 60,
    arrivals: range(60, 60 + 30 * 60, 120).flatMap((start) => steady(start, start + 60, 5)),
    secondsPerMessage: 1,
    fixedServiceTime: false,
    maxMessages: 50,
    maxReplicas: 20,
    targetReplicas: 6,
  },
  {
    id: 'T3',
    title: 'one message every 3 minutes',
    durationSeconds: 60 * 60,
    arrivals: range(60, 60 * 60, 180),
    secondsPerMessage: 2,
    fixedServiceTime: false,
    maxMessages: 10,
    maxReplicas: 20,
    targetReplicas: 1,
  },
  {
    id: 'T4',
    title: 'steady 600 msg/min at 0.5 s each, 30 min',
    durationSeconds: 40 * 60,
    arrivals: steady(60, 60 + 30 * 60, 10),
    secondsPerMessage: 0.5,
    fixedServiceTime: false,
    maxMessages: 50,
    maxReplicas: 20,
    targetReplicas: 7,
  },
  {
    id: 'T5',
    title: 'one message that takes 10 minutes',
    durationSeconds: 30 * 60,
    arrivals: [60],
    secondsPerMessage: 600,
    fixedServiceTime: true,
    maxMessages: 1,
    maxReplicas: 20,
    targetReplicas: 1,
  },
];

import {
  decideReplicas,
  defaultPolicySettings,
  initialState,
  type PolicySettings,
  type ScalerState,
} from '../../lib/scaling/policy.ts';
import type { ScalingBounds } from '../../lib/scaling/target.ts';
import type { Random } from './random.ts';
import type { Trace } from './traces.ts';
import { platform, type Scaler, type ScalerView } from './world.ts';

/** Both queue-depth scalers get the same backlog per pod (KEDA's default queueLength). */
export const messagesPerPod = 5;
const cooldownSeconds = 300;

/**
 * consumerScaler as deployed: an invocation per minute from the schedule (random phase), one more
 * when the depth alarm goes to ALARM (its metric is CloudWatch's, delayed), each reconciling every
 * 10 s for up to 50 s — stopping early when nothing is active unless `pollWhenIdle`. Every pass
 * runs the real policy (lib/scaling/policy.ts) with the state it kept.
 */
export function ourScaler(trace: Trace, random: Random, pollWhenIdle = false): Scaler {
  const bounds: ScalingBounds = {
    messagesPerPod,
    minReplicas: 0,
    maxReplicas: trace.maxReplicas,
    cooldownSeconds,
    // What an operator measures per message, batch overhead included.
    secondsPerMessage:
      trace.secondsPerMessage + (platform.bootstrapSeconds + platform.pauseSeconds) / trace.maxMessages,
  };
  const settings: PolicySettings = defaultPolicySettings;
  let state: ScalerState = initialState;
  let nextSchedule = random() * 60;
  let alarm: 'OK' | 'ALARM' = 'OK';
  let nextAlarmEvaluation = 60;
  const invocations: { startedAt: number; nextPassAt: number }[] = [];
  return {
    name: pollWhenIdle ? 'consumerScaler (poll when idle)' : 'consumerScaler',
    initialReplicas: 0,
    step(t: number, view: ScalerView) {
      if (t >= nextSchedule) {
        invocations.push({ startedAt: t, nextPassAt: t });
        nextSchedule += 60;
      }
      if (t >= nextAlarmEvaluation) {
        nextAlarmEvaluation += 60;
        const published = view.publishedVisible();
        const next = published !== undefined && published >= 1 ? 'ALARM' : 'OK';
        if (next === 'ALARM' && alarm === 'OK') invocations.push({ startedAt: t, nextPassAt: t });
        alarm = next;
      }
      for (let i = invocations.length - 1; i >= 0; i--) {
        const run = invocations[i];
        if (run === undefined || t < run.nextPassAt) continue;
        const counts = view.readCounts();
        const arrivals = view.arrivalsPerSecond();
        const decision = decideReplicas({
          bounds,
          settings,
          current: view.replicas,
          reading: {
            ...counts,
            delayed: 0,
            ...(arrivals === undefined ? {} : { arrivalsPerSecond: arrivals }),
          },
          state,
          now: t * 1000,
        });
        state = decision.state;
        view.setReplicas(decision.replicas);
        const timeLeft = run.startedAt + 50 - (t + 10) >= 0;
        if ((decision.active || pollWhenIdle) && timeLeft) run.nextPassAt = t + 10;
        else invocations.splice(i, 1);
      }
    },
  };
}

/**
 * KEDA aws-sqs-queue + HPA with their defaults: KEDA polls every 30 s (metric = visible + in
 * flight; active when > 0), activates 0 → 1 and deactivates to 0 after cooldownPeriod 300 s
 * without activity; the HPA syncs every 15 s, desired = ceil(metric / queueLength) outside a 10 %
 * tolerance, scale-up at most max(+4 pods, +100 %) per 15 s, scale-down stabilised over 300 s.
 */
export function kedaHpa(trace: Trace, random: Random): Scaler {
  let nextPoll = random() * 30;
  let nextSync = random() * 15;
  let lastActive = Number.NEGATIVE_INFINITY;
  const recommendations: { t: number; replicas: number }[] = [];
  return {
    name: 'KEDA + HPA',
    initialReplicas: 0,
    step(t: number, view: ScalerView) {
      if (t >= nextPoll) {
        nextPoll += 30;
        const { visible, inFlight } = view.readCounts();
        if (visible + inFlight > 0) {
          lastActive = t;
          if (view.replicas === 0) view.setReplicas(1);
        } else if (view.replicas > 0 && t - lastActive >= cooldownSeconds) {
          view.setReplicas(0);
          recommendations.length = 0;
        }
      }
      if (t >= nextSync) {
        nextSync += 15;
        const current = view.replicas;
        if (current === 0) return; // the HPA is idle while KEDA holds the target at zero
        const { visible, inFlight } = view.readCounts();
        const metric = visible + inFlight;
        const ratio = metric / (current * messagesPerPod);
        let desired = Math.abs(ratio - 1) <= 0.1 ? current : Math.ceil(metric / messagesPerPod);
        desired = Math.min(trace.maxReplicas, Math.max(1, desired));
        recommendations.push({ t, replicas: desired });
        while ((recommendations[0]?.t ?? t) < t - 300) recommendations.shift();
        if (desired < current) desired = Math.max(desired, ...recommendations.map((r) => r.replicas));
        if (desired > current) desired = Math.min(desired, Math.max(current + 4, current * 2));
        view.setReplicas(Math.min(desired, trace.maxReplicas));
      }
    },
  };
}

/** A Deployment fixed at max replicas, already running. */
export function staticMax(trace: Trace): Scaler {
  return { name: 'static max', initialReplicas: trace.maxReplicas, step: () => undefined };
}

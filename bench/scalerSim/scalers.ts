import { loadConsumerScalerConfig } from '../../lib/config/consumerScalerConfig.ts';
import { depthHasWork, mayContinue, pauseAfterPass } from '../../lib/scaling/idleWatch.ts';
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

/** The policy's inputs for one consumer of a trace, as an operator would declare them. */
function policyInputs(trace: Trace): { bounds: ScalingBounds; settings: PolicySettings } {
  return {
    bounds: {
      messagesPerPod,
      minReplicas: 0,
      maxReplicas: trace.maxReplicas,
      cooldownSeconds,
      // What an operator measures per message, batch overhead included.
      secondsPerMessage:
        trace.secondsPerMessage + (platform.bootstrapSeconds + platform.pauseSeconds) / trace.maxMessages,
    },
    settings: defaultPolicySettings,
  };
}

/** One invocation's plan: when its next pass (or idle read) is due, and whether it follows a wake-up. */
interface Invocation {
  readonly startedAt: number;
  nextAt: number;
  idle: boolean;
  afterWake: boolean;
}

/**
 * The real policy (lib/scaling/policy.ts) behind one pass, with the state it kept; the write lands
 * `passLatency` after the reading (discovery, the read, the Deployment's GET and Scale PUT).
 */
function policyPass(trace: Trace, random: Random) {
  const { bounds, settings } = policyInputs(trace);
  let state: ScalerState = initialState;
  let pending: { at: number; replicas: number } | undefined;
  return {
    /** Applies a write whose round trips are over; call every step. */
    land(t: number, view: ScalerView): void {
      if (pending !== undefined && t >= pending.at) {
        view.setReplicas(pending.replicas);
        pending = undefined;
      }
    },
    run(t: number, view: ScalerView): { active: boolean; changed: boolean } {
      const counts = view.readCounts();
      const arrivals = view.arrivalsPerSecond();
      const current = pending?.replicas ?? view.replicas;
      const decision = decideReplicas({
        bounds,
        settings,
        current,
        reading: {
          ...counts,
          delayed: 0,
          ...(arrivals === undefined ? {} : { arrivalsPerSecond: arrivals }),
        },
        state,
        now: t * 1000,
      });
      state = decision.state;
      const changed = decision.replicas !== current;
      if (changed) pending = { at: t + platform.passLatency(random), replicas: decision.replicas };
      return { active: decision.active, changed };
    },
  };
}

/** The deployed defaults (lib/config/consumerScalerConfig.ts); SCALER_* variables of the bench's environment override them. */
const run = loadConsumerScalerConfig(process.env).run;

/**
 * consumerScaler as deployed now: an invocation per minute from the schedule (random phase, each
 * started `invokeLatency` after its tick), reconciling every 10 s while a target is active and,
 * while all are settled, reading the queue's depth every 3 s (the idle watch) and reconciling at the
 * first read that shows work — no pass or read later than 58 s into the invocation. The pacing is
 * lib/scaling/idleWatch.ts's own functions.
 */
export function ourScaler(trace: Trace, random: Random): Scaler {
  const pass = policyPass(trace, random);
  let nextSchedule = random() * 60;
  const invocations: Invocation[] = [];
  const limits = { maxRunMs: run.maxRunMs, passBudgetMs: run.passBudgetMs };
  // The Lambda timeout (serverless.yml) bounds the remaining time.
  const remainingMs = (inv: Invocation, t: number) => 70_000 - (t - inv.startedAt) * 1000;
  const clock = (inv: Invocation, t: number) => ({
    elapsedMs: (t - inv.startedAt) * 1000,
    remainingMs: remainingMs(inv, t),
  });
  return {
    name: 'consumerScaler (idle watch, default)',
    initialReplicas: 0,
    step(t: number, view: ScalerView) {
      pass.land(t, view);
      if (t >= nextSchedule) {
        const at = nextSchedule + platform.invokeLatency(random);
        invocations.push({ startedAt: at, nextAt: at, idle: false, afterWake: false });
        nextSchedule += 60;
      }
      for (let i = invocations.length - 1; i >= 0; i--) {
        const inv = invocations[i];
        if (inv === undefined || t < inv.nextAt) continue;
        if (inv.idle) {
          const counts = view.readCounts();
          const woke = depthHasWork({ ...counts, delayed: 0 }, run.policy.includeDelayed);
          if (!woke) {
            if (mayContinue(clock(inv, t), run.idlePollMs, limits)) inv.nextAt = t + run.idlePollMs / 1000;
            else invocations.splice(i, 1);
            continue;
          }
          inv.idle = false;
          inv.afterWake = true;
        }
        const { active, changed } = pass.run(t, view);
        const pause = active
          ? pauseAfterPass(
              { active, changed, afterWake: inv.afterWake },
              run.intervalMs,
              run.policy.readSpacingSeconds * 1000,
            )
          : run.idlePollMs;
        inv.afterWake = false;
        inv.idle = !active;
        const goOn = (active || run.idlePollMs > 0) && mayContinue(clock(inv, t), pause, limits);
        if (goOn) inv.nextAt = t + pause / 1000;
        else invocations.splice(i, 1);
      }
    },
  };
}

/**
 * consumerScaler as it was deployed before the idle watch: an invocation per minute from the
 * schedule, one more when the depth alarm goes to ALARM (its metric is CloudWatch's, delayed),
 * each reconciling every 10 s for up to 50 s while something is active and stopping at the first
 * settled pass — or, with `pollWhenIdle`, every 10 s for the whole 50 s.
 */
export function ourScalerBefore(trace: Trace, random: Random, pollWhenIdle = false): Scaler {
  const pass = policyPass(trace, random);
  let nextSchedule = random() * 60;
  let alarm: 'OK' | 'ALARM' = 'OK';
  let nextAlarmEvaluation = 60;
  const invocations: { startedAt: number; nextPassAt: number }[] = [];
  const invoke = (at: number) => {
    const startedAt = at + platform.invokeLatency(random);
    invocations.push({ startedAt, nextPassAt: startedAt });
  };
  return {
    name: pollWhenIdle
      ? 'consumerScaler before (poll when idle)'
      : 'consumerScaler before (alarm + schedule)',
    initialReplicas: 0,
    step(t: number, view: ScalerView) {
      pass.land(t, view);
      if (t >= nextSchedule) {
        invoke(nextSchedule);
        nextSchedule += 60;
      }
      if (t >= nextAlarmEvaluation) {
        nextAlarmEvaluation += 60;
        const published = view.publishedVisible();
        const next = published !== undefined && published >= 1 ? 'ALARM' : 'OK';
        if (next === 'ALARM' && alarm === 'OK') invoke(t);
        alarm = next;
      }
      for (let i = invocations.length - 1; i >= 0; i--) {
        const inv = invocations[i];
        if (inv === undefined || t < inv.nextPassAt) continue;
        const { active } = pass.run(t, view);
        const timeLeft = inv.startedAt + 50 - (t + 10) >= 0;
        if ((active || pollWhenIdle) && timeLeft) inv.nextPassAt = t + 10;
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

import { describe, expect, it } from 'vitest';
import {
  defaultEventRecorderSettings,
  type EventAction,
  EventRecorder,
  nextEventAction,
  type ScalerEvent,
  type SeenEvent,
} from '../../../lib/scaling/eventRecorder.ts';
import { FakeCluster } from '../../helpers/fakeCluster/fakeCluster.ts';
import { recordingTelemetry } from '../../helpers/telemetry.ts';

const t0 = Date.UTC(2026, 11, 2, 8, 0, 0);
const seen = (overrides: Partial<SeenEvent> = {}): SeenEvent => ({
  name: 'c.1',
  count: 1,
  firstAt: t0,
  writtenAt: t0,
  ...overrides,
});

describe('nextEventAction', () => {
  it.each<[string, SeenEvent | undefined, number, EventAction]>([
    ['creates the first occurrence', undefined, t0, { kind: 'create' }],
    ['only counts a repeat within the interval', seen(), t0 + 5_000, { kind: 'suppress', count: 2 }],
    [
      'writes the count of a repeat after the interval',
      seen({ count: 12 }),
      t0 + 60_000,
      { kind: 'patch', count: 13 },
    ],
    [
      'counts from the last write, not the first',
      seen({ writtenAt: t0 + 60_000 }),
      t0 + 90_000,
      { kind: 'suppress', count: 2 },
    ],
    [
      'starts a new Event before the apiserver expires the old one',
      seen(),
      t0 + 50 * 60_000,
      { kind: 'create' },
    ],
  ])('%s', (_name, before, now, action) => {
    expect(nextEventAction(before, now, defaultEventRecorderSettings)).toEqual(action);
  });
});

describe('EventRecorder', () => {
  const subject = { namespace: 'shop-a', name: 'm2-consumer-export', uid: 'uid-1' };
  const unreadable: ScalerEvent = {
    type: 'Warning',
    reason: 'QueueUnreadable',
    message: 'queue q could not be read',
  };

  const setup = () => {
    const cluster = new FakeCluster();
    let now = t0;
    const recorder = new EventRecorder({ now: () => now, random: () => 0.5 });
    const telemetry = recordingTelemetry();
    return {
      cluster,
      telemetry,
      advance: (ms: number) => {
        now += ms;
      },
      record: (event: ScalerEvent = unreadable) => recorder.record(cluster, subject, event, telemetry.log),
    };
  };

  it('creates a core/v1 Event about the Deployment that kubectl describe finds by uid', async () => {
    // Prepare
    const { cluster, record } = setup();
    // Act
    await record();
    // Assess
    expect(cluster.events('shop-a', 'm2-consumer-export')).toEqual([
      expect.objectContaining({
        involvedObject: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: 'shop-a',
          name: 'm2-consumer-export',
          uid: 'uid-1',
        },
        type: 'Warning',
        reason: 'QueueUnreadable',
        count: 1,
        source: { component: 'm2-consumer-scaler' },
        metadata: expect.objectContaining({ name: expect.stringMatching(/^m2-consumer-export\.[0-9a-f]+$/) }),
      }),
    ]);
  });

  it('writes a repeat once a minute with the count of every occurrence', async () => {
    // Prepare
    const { cluster, record, advance } = setup();
    // Act: every 5 s for a minute.
    for (let i = 0; i < 13; i++) {
      await record();
      advance(5_000);
    }
    // Assess: one create and one patch, count 13.
    const writes = cluster.requests.filter((r) => r.resource === 'events').map((r) => r.verb);
    expect(writes).toEqual(['create', 'patch']);
    expect(cluster.events('shop-a', 'm2-consumer-export')).toEqual([expect.objectContaining({ count: 13 })]);
  });

  it('keeps different messages apart', async () => {
    const { cluster, record } = setup();
    await record();
    await record({ type: 'Normal', reason: 'ScaledUp', message: 'scaled up from 0 to 3' });
    expect(cluster.events('shop-a', 'm2-consumer-export').map((e) => e.reason)).toEqual([
      'QueueUnreadable',
      'ScaledUp',
    ]);
  });

  it('creates the Event again when the apiserver has deleted it', async () => {
    // Prepare
    const { cluster, record, advance } = setup();
    await record();
    advance(60_000);
    cluster.fail({ verb: 'patch', resource: 'events', status: 404 });
    // Act
    await record();
    // Assess
    expect(cluster.requests.filter((r) => r.resource === 'events').map((r) => r.verb)).toEqual([
      'create',
      'patch',
      'create',
    ]);
    expect(cluster.events('shop-a', 'm2-consumer-export')).toHaveLength(2);
  });

  it('logs an Event it may not write and never throws', async () => {
    // Prepare
    const { cluster, record, telemetry } = setup();
    cluster.fail({ verb: 'create', resource: 'events', status: 403 });
    // Act
    await record();
    // Assess
    expect(telemetry.lines).toContainEqual({
      level: 'warn',
      message: 'event not recorded',
      fields: expect.objectContaining({
        deployment: 'm2-consumer-export',
        reason: 'QueueUnreadable',
        error: 'ForbiddenError',
      }),
    });
    expect(cluster.events('shop-a', 'm2-consumer-export')).toEqual([]);
  });
});

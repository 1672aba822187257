import { z } from 'zod';
import { decodeEventKey } from './keyLayout.ts';

/**
 * One S3 notification record reduced to what the pipeline acts on. In the versioned media bucket a
 * plain DELETE is `ObjectRemoved:DeleteMarkerCreated` (the original is gone for every reader, its
 * bytes kept as a noncurrent version) and deleting a version or a delete marker is
 * `ObjectRemoved:Delete`: both are removals, and which one it was is only known from the bucket's
 * state afterwards, so the pipeline decides by reading that state, never by the event name.
 */
export interface ObjectEvent {
  readonly action: 'created' | 'removed';
  readonly eventName: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number | undefined;
  readonly sequencer: string | undefined;
  /** The version the event made or removed (a delete marker's own id for DeleteMarkerCreated); absent when unversioned. */
  readonly versionId: string | undefined;
}

export type ParsedRecord = { ok: true; event: ObjectEvent } | { ok: false; index: number; problem: string };

const recordSchema = z.object({
  eventSource: z.literal('aws:s3'),
  eventName: z.string().min(1),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      // 'null' for an object written while versioning was off or suspended.
      versionId: z.string().min(1).optional(),
      sequencer: z
        .string()
        .regex(/^[0-9A-Fa-f]+$/)
        .optional(),
    }),
  }),
});

export const s3EventSchema = z.object({ Records: z.array(z.unknown()).min(1) });

/**
 * Parses each record on its own, so one malformed record is reported precisely and its
 * neighbours are still processed. Only the shape needed is validated.
 */
export function parseS3Records(records: readonly unknown[]): ParsedRecord[] {
  return records.map((raw, index): ParsedRecord => {
    const parsed = recordSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        index,
        problem: `${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`,
      };
    }
    const { eventName, s3 } = parsed.data;
    const action = eventName.startsWith('ObjectCreated:')
      ? 'created'
      : eventName.startsWith('ObjectRemoved:')
        ? 'removed'
        : undefined;
    if (action === undefined)
      return { ok: false, index, problem: `eventName: unsupported event ${eventName}` };
    let key: string;
    try {
      key = decodeEventKey(s3.object.key);
    } catch (error) {
      return { ok: false, index, problem: `s3.object.key: malformed URL encoding (${String(error)})` };
    }
    return {
      ok: true,
      event: {
        action,
        eventName,
        bucket: s3.bucket.name,
        key,
        size: s3.object.size,
        sequencer: s3.object.sequencer,
        versionId: s3.object.versionId,
      },
    };
  });
}

/**
 * Orders two sequencers of the same key (S3: larger hex value = later event). Values of
 * different lengths are compared after left-padding the shorter with zeros.
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padStart(width, '0');
  const pb = b.toUpperCase().padStart(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

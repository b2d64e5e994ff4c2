import { describe, expect, it } from 'vitest';
import {
  type WireBatch,
  decodeCommand,
  decodeEntry,
  decodeEvent,
  decodePresence,
  decodeReply,
  encodeEntry,
  encodeEvent,
} from './relay-format.js';

const batch: WireBatch = { time: 1, session: 's', start: 1000, names: ['x'], events: [], lostEvents: 0, tasks: [] };

describe('encodeEvent and decodeEvent', () => {
  it('write an event as a few numbers and read it back with every detail', () => {
    const events = [
      { type: 'started' as const, taskName: 'x', timestamp: 1005 },
      { type: 'completed' as const, taskName: 'x', timestamp: 1010 },
      { type: 'failed' as const, taskName: 'x', timestamp: 1011, error: 'boom' },
      { type: 'step' as const, taskName: 'x', timestamp: 1012, stepName: 'build' },
      { type: 'retry' as const, taskName: 'x', timestamp: 1013, attempt: 1, error: 'again' },
      { type: 'queued' as const, taskName: 'x', timestamp: 1014, constraintGroup: 'per-domain', constraintKey: 'acme.com' },
      { type: 'skipped' as const, taskName: 'x', timestamp: 1015, reason: 'overlap', scheduledTime: 1000 },
    ];
    const wire = events.map((event) => encodeEvent(event, 0, 1000));
    expect(wire[0]).toEqual([0, 0, 5]);
    expect(JSON.stringify(wire[1])).toBe('[1,0,10]');
    expect(wire.map((entry) => decodeEvent(entry, ['x'], 1000))).toEqual(events);
  });

  it('refuses an event of a type it does not know, or that names no task', () => {
    expect(decodeEvent([99, 0, 1], ['x'], 0)).toBeUndefined();
    expect(decodeEvent([0, 3, 1], ['x'], 0)).toBeUndefined();
    expect(decodeEvent('started', ['x'], 0)).toBeUndefined();
  });
});

describe('decodeEntry', () => {
  it('reads what encodeEntry writes', () => {
    const written: WireBatch = { ...batch, events: [[0, 0, 5], [1, 0, 7]] };
    expect(decodeEntry(['1-0', encodeEntry('web-1', 'batch', written)])).toEqual({
      ok: true,
      id: '1-0',
      instanceId: 'web-1',
      kind: 'batch',
      batch: {
        time: 1,
        session: 's',
        events: [
          { type: 'started', taskName: 'x', timestamp: 1005 },
          { type: 'completed', taskName: 'x', timestamp: 1007 },
        ],
        lostEvents: 0,
        unknownEvents: 0,
        tasks: [],
      },
    });
    expect(decodeEntry(['2-0', encodeEntry('web-1', 'leave')])).toEqual({ ok: true, id: '2-0', instanceId: 'web-1', kind: 'leave' });
  });

  it('refuses an entry of another format version, saying which', () => {
    const entry = decodeEntry(['1-0', ['v', '2', 'i', 'web-1', 'k', 'batch', 'd', '{}']]);
    expect(entry).toEqual({
      ok: false,
      id: '1-0',
      instanceId: 'web-1',
      problem: 'an entry of format version 2 (this dashboard reads version 1)',
    });
  });

  it('refuses garbage without throwing', () => {
    for (const raw of [null, 'text', ['1-0'], ['1-0', ['v', '1', 'i', 'a', 'k', 'batch', 'd', 'not json']], ['1-0', ['v', '1', 'k', 'leave']]]) {
      expect(decodeEntry(raw).ok).toBe(false);
    }
  });

  it('drops malformed tasks and counts events of unknown types, keeping the rest', () => {
    const data = JSON.stringify({ ...batch, lostEvents: 2, events: [[0, 0, 1], [42, 0, 2]], tasks: [{ name: 'x' }] });
    const entry = decodeEntry(['1-0', ['v', '1', 'i', 'a', 'k', 'batch', 'd', data]]);
    expect(entry.ok && entry.kind === 'batch' ? entry.batch : undefined).toEqual({
      time: 1,
      session: 's',
      events: [{ type: 'started', taskName: 'x', timestamp: 1001 }],
      lostEvents: 3,
      unknownEvents: 1,
      tasks: [],
    });
  });
});

describe('decodePresence', () => {
  it('tells a record of another version from a missing one', () => {
    expect(decodePresence(null)).toBeUndefined();
    expect(decodePresence(JSON.stringify({ v: 9, id: 'a', time: 1, tasks: [] }))).toEqual({
      problem: 'a presence record of format version 9 (this dashboard reads version 1)',
    });
    expect(decodePresence('{')).toEqual({ problem: 'a presence record that is not JSON' });
  });
});

describe('decodeCommand and decodeReply', () => {
  it('reads a trigger and refuses what it does not know', () => {
    expect(decodeCommand(JSON.stringify({ v: 1, id: 'c', type: 'trigger', taskName: 'x' }))).toEqual({
      v: 1,
      id: 'c',
      type: 'trigger',
      taskName: 'x',
    });
    expect(decodeCommand(JSON.stringify({ v: 1, id: 'c', type: 'delete-everything', taskName: 'x' }))).toBeUndefined();
    expect(decodeReply('garbage')).toMatchObject({ ok: false, error: expect.stringContaining('cannot read') });
  });
});

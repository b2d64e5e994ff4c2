import { describe, expect, it } from 'vitest';
import { decodeCommand, decodeEntry, decodePresence, decodeReply, encodeEntry } from './relay-format.js';

const batch = { time: 1, tasks: [], events: [], droppedEvents: 0, runs: [] };

describe('decodeEntry', () => {
  it('reads what encodeEntry writes', () => {
    expect(decodeEntry(['1-0', encodeEntry('web-1', 'batch', batch)])).toEqual({
      ok: true,
      id: '1-0',
      instanceId: 'web-1',
      kind: 'batch',
      batch,
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

  it('drops malformed runs, tasks and events of a batch and keeps the rest', () => {
    const data = JSON.stringify({
      ...batch,
      runs: [{ id: 'r', taskName: 'x', status: 'completed' }, { id: 1 }],
      events: [{ type: 'exploded', taskName: 'x', timestamp: 1 }],
      tasks: [{ name: 'x' }],
    });
    const entry = decodeEntry(['1-0', ['v', '1', 'i', 'a', 'k', 'batch', 'd', data]]);
    expect(entry.ok && entry.kind === 'batch' ? entry.batch : undefined).toEqual({
      ...batch,
      runs: [{ id: 'r', taskName: 'x', status: 'completed' }],
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

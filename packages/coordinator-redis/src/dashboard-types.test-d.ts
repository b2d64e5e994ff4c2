import type { DashboardInstance, DashboardSource, DashboardSnapshot, DashboardUpdate } from '@taskbuffer/dashboard';
import { describe, expectTypeOf, it } from 'vitest';
import type { DashboardInstanceState, MergedSnapshot, MergedUpdate } from './dashboard-types.js';
import type { RedisDashboardSource } from './redis-dashboard-source.js';

// The relay's copy of the dashboard's wire shapes must keep fitting the dashboard's own.
describe('dashboard types', () => {
  it('RedisDashboardSource is a DashboardSource', () => {
    expectTypeOf<RedisDashboardSource>().toMatchTypeOf<DashboardSource>();
  });

  it('merged snapshots and updates are dashboard snapshots and updates', () => {
    expectTypeOf<MergedSnapshot>().toMatchTypeOf<DashboardSnapshot>();
    expectTypeOf<MergedUpdate>().toMatchTypeOf<DashboardUpdate>();
    expectTypeOf<DashboardInstanceState>().toEqualTypeOf<DashboardInstance>();
  });
});

import { InMemoryCoordinator } from './distributed-coordination.js';
import { describeCoordinatorConformance } from './testing/index.js';

const shared = new InMemoryCoordinator();

// Instances of one process share one InMemoryCoordinator.
describeCoordinatorConformance('InMemoryCoordinator', {
  create: (count) => Array.from({ length: count }, () => shared),
});

import { TaskbufferDashboard } from './taskbuffer-dashboard.js';

// Defining twice throws; a second copy of the package on the page keeps the first definition.
if (typeof customElements !== 'undefined' && customElements.get('taskbuffer-dashboard') === undefined) {
  customElements.define('taskbuffer-dashboard', TaskbufferDashboard);
}

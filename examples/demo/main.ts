import { startDemo } from './start-demo.ts';

const DEFAULT_PORT = 3000;

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`PORT must be an integer from 0 to 65535, got "${text}"`);
    process.exit(1);
  }
  return port;
}

const requested = parsePort(process.env.PORT);
let demo;
try {
  demo = await startDemo({ port: requested ?? DEFAULT_PORT });
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  if (requested !== undefined) {
    console.error(`Port ${requested} is in use; pick another with PORT=<port> pnpm demo`);
    process.exit(1);
  }
  console.log(`Port ${DEFAULT_PORT} is in use; using a free port instead (set PORT to choose one).`);
  demo = await startDemo({ port: 0 });
}

console.log(`\ntaskbuffer demo — dashboard at ${demo.url}\n`);
for (const feature of demo.missing) console.log(`(left out: ${feature} could not be loaded)`);
console.log('Press Ctrl+C to stop.\n');

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) process.exit(130);
  stopping = true;
  console.log(`\n${signal}: stopping — the runs under way finish first (Ctrl+C again to quit at once)`);
  demo.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

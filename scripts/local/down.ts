import { downAws } from './aws.ts';

/** `npm run local:down`: stops exactly the processes `local:up` recorded. */
export async function down(): Promise<void> {
  const stopped = await downAws();
  console.log(stopped ? 'moto stopped' : 'moto was not running');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  down().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

// The delivery simulation's figures must not depend on how long real work takes: under tsx each of the handler's
// lazy import()s is a loader round trip, and virtual time advanced during each one (`npm run bench` printed storm
// drains of 37–95 min where jest gave 8.2). Here every lazy load first waits real time, as under tsx.
import type { StormFigures } from '../../local/delivery-scenarios';

const mockLoads = { delayMs: 0, delayed: 0 };

jest.mock('../../lambda/shared/lazy-import', () => {
  const actual = jest.requireActual<typeof import('../../lambda/shared/lazy-import')>(
    '../../lambda/shared/lazy-import',
  );
  return {
    lazyImport: <T>(load: () => Promise<T>) =>
      actual.lazyImport(async () => {
        if (mockLoads.delayMs > 0) {
          mockLoads.delayed++;
          await new Promise((resolve) => setTimeout(resolve, mockLoads.delayMs));
        }
        return load();
      }),
  };
});

/** The storm in a fresh module registry, so that no module is loaded yet. */
async function stormWithLoadsTaking(delayMs: number): Promise<StormFigures> {
  mockLoads.delayMs = delayMs;
  let storm: StormFigures | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runStorm } = await import('../../local/delivery-scenarios');
    storm = await runStorm({ alarms: 400 });
  });
  return storm!;
}

it('a storm drains at the same virtual time however long the handler takes to load its modules', async () => {
  const instant = await stormWithLoadsTaking(0);
  const slow = await stormWithLoadsTaking(25);
  expect(mockLoads.delayed).toBeGreaterThan(0);
  expect(slow.drainMs).toBe(instant.drainMs);
  expect(slow.perMinute).toEqual(instant.perMinute);
  expect(slow.stats).toEqual(instant.stats);
}, 120_000);

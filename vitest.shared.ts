// What every package's tests share. The bounds are for a loaded 2-core machine, not an idle one: a wait that
// succeeds returns as soon as it does, so only a failure takes the full bound.
export const testDefaults = {
  include: ['test/**/*.test.ts'],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  // expect.poll waits 1 s by default: too little for a spawned process on a busy machine.
  expect: { poll: { timeout: 30_000, interval: 50 } },
};

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __psRedis?: { stop(): Promise<void> } };
  await g.__psRedis?.stop();
}

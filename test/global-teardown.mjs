export default async function globalTeardown() {
  await globalThis.embeddedCluster?.stop();
}

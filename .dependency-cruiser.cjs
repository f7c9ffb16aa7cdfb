/** Import boundaries (docs/architecture.md, "Layers"): apps -> libs; sync -> rules, domain; rules -> domain;
 *  adapters -> domain, config, http-client; domain, http-client -> no lib. No vendor SDK in domain, rules or sync. No cycles. */
const vendorSdk = '^node_modules/(jsforce|faye|bullmq|ioredis|@nestjs|express)(/|$)';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Cycles make the layers meaningless.', from: {}, to: { circular: true } },
    { name: 'libs-not-to-apps', severity: 'error', from: { path: '^libs/' }, to: { path: '^apps/' } },
    {
      name: 'domain-imports-nothing', severity: 'error',
      from: { path: '^libs/domain/' }, to: { path: '^(libs/(?!domain/)|apps/|node_modules/)' },
    },
    {
      name: 'rules-only-domain', severity: 'error',
      from: { path: '^libs/rules/' }, to: { path: '^libs/(?!rules/|domain/)' },
    },
    {
      name: 'sync-only-rules-domain', severity: 'error',
      from: { path: '^libs/sync/' }, to: { path: '^libs/(?!sync/|rules/|domain/)' },
    },
    {
      name: 'adapters-only-domain-config', severity: 'error',
      from: { path: '^libs/(salesforce|contact-center|connector-[a-z-]+|redis|config)/' },
      to: { path: '^libs/(?!salesforce/|contact-center/|connector-[a-z-]+/|redis/|config/|domain/|http-client/)' },
    },
    {
      name: 'http-client-imports-no-lib', severity: 'error',
      comment: 'The outbound HTTP pool the adapters share knows no adapter and no domain.',
      from: { path: '^libs/http-client/' }, to: { path: '^(libs/(?!http-client/)|apps/)' },
    },
    {
      name: 'adapters-independent', severity: 'error',
      comment: 'An adapter does not reach into another adapter; connectors do not import each other.',
      from: { path: '^libs/(salesforce|contact-center|connector-[a-z-]+|redis)/' },
      to: { path: '^libs/(salesforce|contact-center|connector-[a-z-]+|redis)/', pathNot: '^libs/$1/' },
    },
    {
      name: 'no-vendor-sdk-in-core', severity: 'error',
      comment: 'domain, rules and sync stay free of jsforce, faye, bullmq, ioredis and Nest.',
      from: { path: '^libs/(domain|rules|sync)/' }, to: { path: vendorSdk },
    },
    {
      name: 'no-test-fakes-in-production', severity: 'error',
      comment: 'libs/testing (in-memory fakes, emulators) serves the tests, the sandbox and the bench; the daemon and the production libs never import it.',
      from: { path: '^(apps/presence-sync/|libs/(?!testing/))', pathNot: '\\.spec\\.ts$' }, to: { path: '^libs/testing/' },
    },
    {
      name: 'no-deep-lib-imports', severity: 'error',
      comment: 'Another lib is used through its index.ts only.',
      from: { path: '^(apps/[^/]+|libs/[^/]+)/' },
      to: { path: '^libs/[^/]+/src/.+', pathNot: ['^libs/[^/]+/src/index\\.ts$', '^$1/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|^apps/omni-relay/)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};

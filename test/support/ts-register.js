'use strict';
// Lets plain `node` run the TypeScript sources, for child processes of tests (e.g. test/support/crash-worker.ts):
//   node -r ./test/support/ts-register.js test/support/crash-worker.ts
// Transpiles each .ts file on load with TypeScript's transpileModule (emit only, as jest's ts-jest does with
// tsconfig.jest.json: decorator metadata for Nest's DI, no type check) and maps `@presence-sync/<lib>` to
// libs/<lib>/src/index.ts as tsconfig.json's paths do. Test-only: the product runs the tsc build (dist/).
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..', '..');
const LIB = /^@presence-sync\/([a-z][a-z-]*)$/;
const COMPILER_OPTIONS = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  isolatedModules: true,
  inlineSourceMap: true,
  inlineSources: true,
};

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveWithAliases(request, parent, isMain, options) {
  const lib = LIB.exec(request);
  const target = lib ? path.join(root, 'libs', lib[1], 'src', 'index.ts') : request;
  return resolveFilename.call(this, target, parent, isMain, options);
};

Module._extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: COMPILER_OPTIONS, fileName: filename });
  module._compile(outputText, filename);
};

// Stack traces point into the .ts sources.
process.setSourceMapsEnabled(true);

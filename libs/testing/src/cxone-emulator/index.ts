export * from './cxone-emulator';
export * from './cxone-emulator.types';
export * from './cxone-sandbox.acd';
export * from './cxone-sandbox.catalog';
export * from '../conformance/cxone.harness';

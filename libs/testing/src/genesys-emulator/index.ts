export * from './genesys-emulator';
export * from './genesys-sandbox.acd';
export * from '../conformance/genesys.harness';

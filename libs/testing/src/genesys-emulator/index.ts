export * from './genesys-emulator';
export * from '../conformance/genesys.harness';

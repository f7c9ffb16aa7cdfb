export * from './webex-emulator';
export * from './webex-emulator.types';
export * from './webex-sandbox.acd';
export * from '../conformance/webex.harness';

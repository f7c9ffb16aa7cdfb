export * from './amazon-connect-emulator';
export * from './amazon-connect-sandbox.acd';
export * from '../conformance/amazon-connect.harness';

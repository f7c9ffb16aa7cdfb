export * from './amazon-connect-emulator';
export * from '../conformance/amazon-connect.harness';

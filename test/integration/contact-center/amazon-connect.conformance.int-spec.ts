import { makeAmazonConnectHarness } from '@presence-sync/testing';
import { connectorConformance } from '../../support/connector-conformance';

// The Amazon Connect connector (agent event stream on Kinesis, PutUserStatus writes) against the in-process
// Connect + Kinesis emulator.
connectorConformance('amazon-connect', () => makeAmazonConnectHarness());

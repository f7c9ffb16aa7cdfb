import { makeGenesysHarness } from '@presence-sync/testing';
import { connectorConformance } from '../../support/connector-conformance';

// The Genesys Cloud CX connector (notification channels over WebSocket, presence writes) against the Genesys emulator.
connectorConformance('genesys', () => makeGenesysHarness());

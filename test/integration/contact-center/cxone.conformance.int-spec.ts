import { makeCxoneHarness } from '@presence-sync/testing';
import { connectorConformance } from '../../support/connector-conformance';

// The CXone connector (real-time agent-state polling, admin state writes) against the CXone emulator.
connectorConformance('cxone', () => makeCxoneHarness());

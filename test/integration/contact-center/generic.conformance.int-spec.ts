import { makeGenericHarness } from '@presence-sync/testing';
import { connectorConformance } from '../../support/connector-conformance';

// The generic connector (contract v1) against its emulator, through the same suite as every native connector.
connectorConformance('generic', makeGenericHarness);

import { makeWebexHarness } from '@presence-sync/testing';
import { connectorConformance } from '../../support/connector-conformance';

// The Webex Contact Center connector against its emulator (docs/connectors/webex.md).
connectorConformance('webex', makeWebexHarness);

import type { SalesforceStatusDefinition } from '@presence-sync/domain';

/**
 * The sandbox's Omni-Channel status catalog (DeveloperNames), shared with the example rules: the Salesforce
 * emulator's default catalog, the in-memory org's, and the choices of the agents page. Test data only: a real
 * org's statuses are read from it.
 */
export const SANDBOX_STATUSES: SalesforceStatusDefinition[] = [
  { id: '0N5000000000001', developerName: 'Available_Chat', label: 'Available - Chat' },
  { id: '0N5000000000002', developerName: 'Available_All', label: 'Available - All Channels' },
  { id: '0N5000000000003', developerName: 'Busy', label: 'Busy' },
  { id: '0N5000000000004', developerName: 'Busy_On_Call', label: 'Busy - On a Call' },
  { id: '0N5000000000005', developerName: 'Lunch', label: 'Lunch' },
  { id: '0N5000000000006', developerName: 'Break', label: 'Break' },
  { id: '0N5000000000007', developerName: 'Training', label: 'Training' },
  { id: '0N5000000000008', developerName: 'Chat_Done', label: 'Chat Done' },
];

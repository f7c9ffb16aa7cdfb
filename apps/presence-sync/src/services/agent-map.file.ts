import { readFile } from 'node:fs/promises';

/**
 * Reads the explicit agent map (`AGENT_MAP_FILE`): a JSON object of `"<agentId>": "<Salesforce user id,
 * username or e-mail>"`. The daemon's directory and `salesforce check` read it the same way.
 */
export async function readAgentMapFile(file: string): Promise<Record<string, string>> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`${file} must be a JSON object of "<agentId>": "<Salesforce user id, username or e-mail>"`);
  }
  return parsed as Record<string, string>;
}

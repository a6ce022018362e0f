// The official TypeScript MCP client drives jobs-mcp over stdio: list tools, read, propose, confirm, replay.
// Usage: node client.mjs <jobs-mcp executable> [job id]; prints one JSON object with what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [command, jobId] = process.argv.slice(2);
const env = { ...process.env };
delete env.LYTICS_API_TOKEN;
const transport = new StdioClientTransport({ command, args: ["serve"], env, stderr: "ignore" });
const client = new Client({ name: "ts-sdk-test", version: "1.0.0" });
await client.connect(transport);

const text = (result) => result.content.map((block) => block.text ?? "").join("\n");
const tools = (await client.listTools()).tools;
const listed = await client.callTool({ name: "lytics_list_jobs", arguments: {} });
const proposal = await client.callTool({ name: "lytics_pause_job", arguments: { job_id: jobId } });
const id = proposal.structuredContent.confirmation_id;
const done = await client.callTool({ name: "confirm_action", arguments: { confirmation_id: id } });
const replay = await client.callTool({ name: "confirm_action", arguments: { confirmation_id: id } });
const prompts = (await client.listPrompts()).prompts;
const resources = (await client.listResources()).resources;

console.log(JSON.stringify({
  server: client.getServerVersion(),
  tools: tools.map((t) => ({ name: t.name, readOnly: t.annotations?.readOnlyHint ?? null, hasOutputSchema: !!t.outputSchema })),
  listedCount: listed.structuredContent.count,
  listedText: text(listed).slice(0, 200),
  proposalStatus: proposal.structuredContent.status,
  doneStatus: done.structuredContent.status,
  replayIsError: replay.isError === true,
  replayText: text(replay),
  prompts: prompts.map((p) => p.name),
  resources: resources.map((r) => r.uri),
}));
await client.close();

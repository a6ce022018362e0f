// The official TypeScript MCP client drives `jobs-mcp serve --http` (sessions) with a bearer token and an
// elicitation handler: the server asks the person through it, and the handler answers accept or decline.
// Usage: node http-client.mjs <MCP URL> <bearer token> <tool> <job id> <accept|decline> [form|url]
// `url` declares URL-mode elicitation only (the approval link comes to the handler); `form` (the default) forms.
// Prints one JSON object with what it saw. The token comes from the command line only in tests.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, token, tool, jobId, answer, declares = "form"] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const elicitation = declares === "url" ? { url: {} } : { form: {} };
const client = new Client({ name: "ts-sdk-http-test", version: "1.0.0" }, { capabilities: { elicitation } });
const asked = [];
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  const { mode = "form", message, url: link = null, requestedSchema } = request.params;
  asked.push({ mode, message, url: link, fields: Object.keys(requestedSchema?.properties ?? {}) });
  if (answer !== "accept") return { action: "decline" };
  return mode === "url" ? { action: "accept" } : { action: "accept", content: { approve: true } };
});
await client.connect(transport);
const result = await client.callTool({ name: tool, arguments: { job_id: jobId } });
console.log(JSON.stringify({
  sessionId: transport.sessionId ?? null,
  protocolVersion: transport.protocolVersion ?? null,
  asked,
  isError: result.isError === true,
  status: result.structuredContent?.status ?? null,
  confirmationId: result.structuredContent?.confirmation_id ?? null,
  text: result.content.map((block) => block.text ?? "").join("\n").slice(0, 300),
  modelSees: JSON.stringify({ content: result.content, structuredContent: result.structuredContent ?? null }),
}));
await client.close();

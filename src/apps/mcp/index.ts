/** sessionpool's MCP server, for hosts that embed it (the CLI's `mcp` command is built on these). */
export { createMcpServer } from './server.ts';
export type { ToolContext } from './server.ts';
export { serveStdio } from './stdio.ts';
export type { McpStdioOptions, McpStdioServer } from './stdio.ts';
export { serveHttp } from './http.ts';
export type { McpHttpOptions, McpHttpServer } from './http.ts';
export { chatInputSchema, chatOutputSchema } from './chat-schema.ts';
export type { ChatToolInput } from './chat-schema.ts';
export { describeProviders } from './provider-list.ts';
export type { ProviderInfo } from './provider-list.ts';
export { loadConfigFile, configFromEnv, configWithMock } from './config.ts';
export type { McpConfig, FileProviderConfig } from './config.ts';
export { ERROR_META_KEY } from './tool-result.ts';
export type { ToolError } from './tool-result.ts';

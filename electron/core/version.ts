/** Written into every manifest; kept in step with package.json by test/unit/version.test.ts. */
export const TOOL_VERSION = '0.1.0';

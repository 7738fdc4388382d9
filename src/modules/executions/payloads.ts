export type GraphExecutionPayloadRef = { graphExecutionId: string };
export type NodeExecutionPayloadRef = { nodeExecutionId: string };

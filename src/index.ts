// The package's entry (`import { ... } from 'sessionpool'`): the engine's public API, plus the
// embedded mock provider and the views of a running supervisor (also at 'sessionpool/mock' and
// 'sessionpool/observe'), loaded when first started (src/apps/faces.ts).
export * from './api/public.ts';
export { startLiveView, startMockProvider, startStatelyInspector } from './apps/faces.ts';
export type { StatelyInspector, StatelyInspectorOptions } from './apps/observe/stately.ts';
export type { LiveView, LiveViewOptions } from './apps/observe/live-view.ts';
export { sessionMachineJSON, machineConfigJSON } from './apps/observe/machine-export.ts';
export type { JsonRef, MachineConfigJSON, StateConfigJSON, TransitionConfigJSON } from './apps/observe/machine-export.ts';
export { machineToMermaid, sessionMachineMermaid } from './apps/observe/mermaid.ts';

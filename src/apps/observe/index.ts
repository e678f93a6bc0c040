// `sessionpool/observe`: the views of a running supervisor. The live view needs the optional peer
// `ws`, the Stately relay `@statelyai/inspect`; each is imported when its view starts.
export { startLiveView } from './live-view.ts';
export type { LiveView, LiveViewOptions } from './live-view.ts';
export { startStatelyInspector } from './stately.ts';
export type { StatelyInspector, StatelyInspectorOptions } from './stately.ts';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from '../../api/public.ts';
export { sessionMachineJSON, machineConfigJSON } from './machine-export.ts';
export type { MachineConfigJSON, StateConfigJSON, TransitionConfigJSON } from './machine-export.ts';
export { machineToMermaid, sessionMachineMermaid } from './mermaid.ts';
export { MissingPeerDependencyError } from '../../api/public.ts';

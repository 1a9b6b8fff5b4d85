export { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
export { startUi, type UiOptions, type UiServer } from './server.js';

export { DEFAULT_HOST, DEFAULT_PORT, startUi, type UiOptions, type UiServer } from './server.js';

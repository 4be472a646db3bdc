// The library every side shares. Re-exports grow as modules land.
export * from './proxy-config.js';
export * from './constructs/index.js';

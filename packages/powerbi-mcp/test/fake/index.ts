export * from './model.js';
export * from './dax.js';
export * from './powerbi.js';

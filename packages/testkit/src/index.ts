export * from './certificate.js';
export * from './fake-service.js';
export * from './fake-authority.js';
export * from './spawn.js';
export * from './keychain.js';
export * from './contract.js';
export * from './pack.js';
export * from './untrusted.js';

export * from './config';
export * from './platform';

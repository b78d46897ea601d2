export * from './credit-risk';
export * from './definitions';

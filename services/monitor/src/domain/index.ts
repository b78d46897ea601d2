export * from './drift';
export * from './performance';
export * from './policy';
export * from './rows';
export * from './analyst-query';

export * from './bootstrap';
export * from './platform.lifecycle';
export * from './platform.module';

export * from './bootstrap';
export * from './platform.lifecycle';
export * from './platform.module';
export * from './http-exception.filter';

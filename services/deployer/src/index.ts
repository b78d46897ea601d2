export * from './app';
export * from './app.module';
export * from './config';

export * from './schema';
export * from './validation';
export * from './errors';
export * from './decorators';
export * from './openapi';
export { renderDocsPage } from './docs-page';
export * from './mlflow';

export * from './artifact-store';
export * from './local-store';
export * from './s3-store';
export * from './sigv4';
export * from './create-artifact-store';
export * from './config';

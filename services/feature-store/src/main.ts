import 'reflect-metadata';
import { bootstrapService } from '@mlops/platform';
import { featureStoreService } from './app';

void bootstrapService(featureStoreService);

import 'reflect-metadata';
import { bootstrapService } from '@mlops/platform';
import { registryService } from './app';

void bootstrapService(registryService);

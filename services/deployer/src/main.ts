import 'reflect-metadata';
import { bootstrapService } from '@mlops/platform';
import { deployerService } from './app';

void bootstrapService(deployerService);

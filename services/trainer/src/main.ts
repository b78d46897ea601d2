import 'reflect-metadata';
import { bootstrapService } from '@mlops/platform';
import { trainerService } from './app';

void bootstrapService(trainerService);

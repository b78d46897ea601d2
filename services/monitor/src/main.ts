import 'reflect-metadata';
import { bootstrapService } from '@mlops/platform';
import { monitorService } from './app';

void bootstrapService(monitorService);

import 'reflect-metadata';
import { bootstrapService } from '@mlops/platform';
import { ingestionService } from './app';

void bootstrapService(ingestionService);

// Entry point of the TypeORM CLI (`npm run migration:generate`, `npm run migration:run`).
import { DataSource } from 'typeorm';
import { entities } from '../entities.js';
import { dataSourceOptions } from './data-source-options.js';

const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error(
    'DATABASE_URL must point at the PostgreSQL to generate or run migrations against',
  );
}

export default new DataSource(dataSourceOptions(url, entities));

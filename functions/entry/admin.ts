import { wireAdmin } from './wires';
import { createWiring } from './wiring';

export const handler = wireAdmin(createWiring());

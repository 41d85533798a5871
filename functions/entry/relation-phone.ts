import { wireRelationPhone } from './wires';
import { createWiring } from './wiring';

export const handler = wireRelationPhone(createWiring());

import { wireDeletePhoneRelation } from './wires';
import { createWiring } from './wiring';

export const handler = wireDeletePhoneRelation(createWiring());

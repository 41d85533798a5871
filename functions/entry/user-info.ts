import { wireUserInfo } from './wires';
import { createWiring } from './wiring';

export const handler = wireUserInfo(createWiring());

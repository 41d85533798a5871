import { wireSendPhoneSmsCode } from './wires';
import { createWiring } from './wiring';

export const handler = wireSendPhoneSmsCode(createWiring());

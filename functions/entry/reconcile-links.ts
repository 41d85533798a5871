import { wireLinkReconciler } from './link-reconciler-wire';
import { createWiring } from './wiring';

export const handler = wireLinkReconciler(createWiring());

#!/usr/bin/env node
/**
 * The CDK app: one phone-link stack per stage.
 *
 *   npx cdk synth                      # dev, with placeholder secrets
 *   npx cdk synth -c stage=prod -c jwksUrl=https://... \
 *     -c userDomainSecrets='{"<domain>":"<secret>"}' -c codePepper=...
 *
 * All settings come from context; see lib/stage-config.ts for the keys.
 */
import { App } from 'aws-cdk-lib';
import { PhoneLinkStack } from '../lib/phone-link-stack';
import { readStageConfig, stackName, StageConfigError, type StageConfig } from '../lib/stage-config';

const app = new App();

let config: StageConfig;
try {
  config = readStageConfig(app.node);
} catch (error) {
  // A configuration mistake: say what to pass, without a stack trace.
  if (!(error instanceof StageConfigError)) throw error;
  console.error(`phone-link: ${error.message}`);
  process.exit(1);
}

new PhoneLinkStack(app, stackName(config.stage), {
  config,
  // No `env`: nothing here looks anything up, so the template stays
  // environment-agnostic and deploys to the account and region of the
  // deploying credentials (and synth needs no AWS access at all).
  tags: { project: 'phone-link', stage: config.stage },
});

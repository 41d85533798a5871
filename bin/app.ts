#!/usr/bin/env node
/**
 * The CDK app: one phone-link stack per stage, checked against the AWS
 * Solutions rule pack (cdk-nag) on every synth; a finding fails the synth.
 *
 *   npx cdk synth                                   # dev, no context needed
 *   npx cdk deploy -c stage=prod \
 *     -c jwksUrl=https://login.example.com/.well-known/jwks.json \
 *     -c jwtIssuer=https://login.example.com \
 *     -c userDomains=C.DM.5903.1 -c alarmEmail=oncall@example.com
 *
 * Multi-region (docs/MULTI-REGION.md): the same with `--all` and
 * `-c regions=eu-west-1,eu-west-2 -c witnessRegion=eu-central-1`.
 *
 * All settings come from context; docs/DEPLOY.md lists the keys
 * (lib/stage-config.ts reads and checks them).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addPhoneLinkStacks } from '../lib/phone-link-stack';
import { readStageConfig, StageConfigError, type StageConfig } from '../lib/stage-config';

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

addPhoneLinkStacks(app, config, {
  // No `env` for one region: nothing here looks anything up, so the template
  // stays environment-agnostic and deploys to the account and region of the
  // deploying credentials (and synth needs no AWS access at all). With
  // -c regions=..., each stack is pinned to its region.
  tags: { project: 'phone-link', stage: config.stage },
});

// Every unacknowledged finding interrupts `cdk synth` and `cdk deploy`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

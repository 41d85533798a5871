import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { FUNCTION_TIMEOUT_MS } from '../../functions/request-budget';
import { ApiFunction } from '../../lib/constructs/api-function';

// The SDK settings are sized to a budget counted back from the functions' timeout: the two must not drift apart.
it('the functions time out when client-config.ts budgets for', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Timeout');
  new ApiFunction(stack, 'Fn', { entry: 'user-info.ts', logRetention: RetentionDays.ONE_WEEK });
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  expect(fn?.Properties.Timeout).toBe(FUNCTION_TIMEOUT_MS / 1000);
});

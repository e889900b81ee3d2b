/** Reading what a use case enqueued on a real local SQS queue, for assertions. */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OffboardingRequest } from '../../lambdas/core/request.js';

/** Every request on the queue; received messages stay invisible long enough that none is read twice. */
export async function receiveAllRequests(client: SQSClient, queueUrl: string): Promise<OffboardingRequest[]> {
  const bodies: OffboardingRequest[] = [];
  for (;;) {
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }));
    if (!Messages || Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => JSON.parse(m.Body ?? '') as OffboardingRequest));
  }
}

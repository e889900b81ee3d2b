/**
 * `@smithy/core/event-streams` as the Lambda bundles need it (lib/constructs/project-function.ts aliases the subpath to
 * this module). None of our calls streams events (DynamoDB, SQS, Step Functions, Secrets Manager, S3 PutObject), yet
 * every bundle carried the module (≈ 15 KB): the SDK's protocol layer imports it on the first event-stream operation
 * (a dynamic import, which a single-file bundle inlines), and the S3 client builds a marshaller when it is created.
 * So construction works as before and any event-stream operation fails loudly instead of silently.
 */

function unbundled(): never {
  throw new Error('event streams are not bundled in this Lambda (lambdas/bundle-aliases/event-streams.ts)');
}

/** What the S3 client's config resolver stores as `eventStreamMarshaller`; used only by event-stream operations. */
class UnbundledEventStreamMarshaller {
  serialize(): never {
    return unbundled();
  }

  deserialize(): never {
    return unbundled();
  }
}

export const eventStreamSerdeProvider = (): UnbundledEventStreamMarshaller => new UnbundledEventStreamMarshaller();

/** Same as the SDK's: the client config gets the marshaller its provider builds. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(input: T) =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** Loaded by HttpProtocol.loadEventStreamCapability, i.e. only for an event-stream operation. */
export class EventStreamSerde {
  constructor() {
    unbundled();
  }
}

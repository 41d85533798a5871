import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the stub answers one request: write to `res`, or leave it unanswered. */
export type Reply = (request: { body: string; target: string | undefined }, res: ServerResponse) => void;

/**
 * An AWS service on loopback that answers (or fails) as the service would,
 * for the real SDK clients set up by client-config.ts. `received` holds each
 * request body, answered or not.
 */
export async function stubService(reply: Reply) {
  const received: string[] = [];
  let answer = reply;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push(body);
      answer({ body, target: req.headers['x-amz-target'] as string | undefined }, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    /** Answers from now on with `next`. */
    answerWith: (next: Reply) => {
      answer = next;
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

export type StubService = Awaited<ReturnType<typeof stubService>>;

/** SNS accepting a Publish. */
export const published: Reply = (_request, res) => {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end('<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>');
};

/** SNS answering an error in its query protocol: `Sender` for a fault of the request, `Receiver` for its own. */
export const snsError =
  (status: number, code: string, message: string, type: 'Sender' | 'Receiver' = status < 500 ? 'Sender' : 'Receiver'): Reply =>
  (_request, res) => {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(`<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`);
  };

/** Never answers: the client's own timeout ends the attempt. */
export const neverAnswers: Reply = () => undefined;

/** The SMS text of a Publish the stub received (answered or not). */
export const messageOf = (body: string | undefined): string => new URLSearchParams(body ?? '').get('Message') ?? '';

const AWS_JSON_1_0 = { 'content-type': 'application/x-amz-json-1.0' };

/** End User Messaging (AWS JSON 1.0) accepting the call: `answer` is the output, such as SendTextMessage's `{ MessageId }`. */
export const smsVoiceAnswer =
  (answer: Record<string, unknown>): Reply =>
  (_request, res) => {
    res.writeHead(200, AWS_JSON_1_0);
    res.end(JSON.stringify(answer));
  };

/** End User Messaging answering an error in AWS JSON 1.0: `__type` names it; `members` are its fields (Reason, ResourceType, ...). */
export const smsVoiceError =
  (status: number, type: string, message: string, members: Record<string, unknown> = {}): Reply =>
  (_request, res) => {
    res.writeHead(status, AWS_JSON_1_0);
    res.end(JSON.stringify({ __type: `com.amazonaws.pinpointsmsvoicev2#${type}`, Message: message, ...members }));
  };

/** The ObjectStore port on S3 (SSE by the bucket's default encryption). */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../usecases/ports.js';

export function s3ObjectStore(client: S3Client, bucket: string): ObjectStore {
  return {
    async put(object) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: object.key, Body: object.body, ContentType: object.contentType }));
      return `s3://${bucket}/${object.key}`;
    },
  };
}

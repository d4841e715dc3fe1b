/** An S3 client for an S3Location (s3-location.ts), with credentials from the SDK's default provider chain. */
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Location } from './s3-location';

export interface S3ClientOptions {
  maxAttempts?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** A client for the location; credentials from the SDK's default provider chain. */
export function s3Client(loc: S3Location, options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    region: loc.region,
    endpoint: loc.endpoint,
    forcePathStyle: loc.forcePathStyle,
    maxAttempts: options.maxAttempts,
    // Plain Content-MD5-free requests that every S3-compatible server understands.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 2000, requestTimeout: options.requestTimeoutMs ?? 60_000 },
  });
}

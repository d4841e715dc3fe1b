/**
 * An S3 client for an S3Location (s3-location.ts), with credentials from the SDK's default provider
 * chain. The SDK is loaded when a client is made, not on import: a runtime serving a local
 * repository never loads it, and code that captures these modules (the model store's initial
 * release runs as a Pulumi dynamic provider, whose closure serializer cannot capture the SDK's
 * module objects) requires it where it runs.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Location } from './s3-location';

/** The S3 SDK module, loaded on first use. */
export function s3Sdk(): typeof import('@aws-sdk/client-s3') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-s3');
}

export interface S3ClientOptions {
  maxAttempts?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** A client for the location; credentials from the SDK's default provider chain. */
export function s3Client(loc: S3Location, options: S3ClientOptions = {}): S3Client {
  return new (s3Sdk().S3Client)({
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

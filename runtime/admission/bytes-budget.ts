/**
 * The budget for request bytes in flight: bytes of request bodies the server holds (being
 * received, decoded or waiting for their inference) at any moment. A request reserves its
 * declared Content-Length before any of its body is read, or, for chunked uploads, each chunk
 * as it arrives; what does not fit is answered 503 + Retry-After. Reservations are released when
 * the response is done (or the connection is gone).
 */
export class BytesBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.used;
  }

  /** Reserves `n` bytes if they fit; false (and nothing reserved) when they do not. */
  tryReserve(n: number): boolean {
    if (n <= 0) return true;
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/**
 * The process's serving state as the load balancer sees it:
 * starting (models loading) → serving → draining (SIGTERM: ready answers 503, requests still
 * served) → closing (listener closed, in-flight requests finishing).
 */
export type Phase = 'starting' | 'serving' | 'draining' | 'closing';

export class Lifecycle {
  private current: Phase = 'starting';
  private readonly listeners: Array<(phase: Phase) => void> = [];

  get phase(): Phase {
    return this.current;
  }

  /** True from SIGTERM on: responses carry `Connection: close` so clients reconnect elsewhere. */
  get stopping(): boolean {
    return this.current === 'draining' || this.current === 'closing';
  }

  onChange(listener: (phase: Phase) => void): void {
    this.listeners.push(listener);
  }

  to(phase: Phase): void {
    const order: Phase[] = ['starting', 'serving', 'draining', 'closing'];
    if (order.indexOf(phase) <= order.indexOf(this.current)) return; // never goes back
    this.current = phase;
    for (const l of this.listeners) l(phase);
  }
}

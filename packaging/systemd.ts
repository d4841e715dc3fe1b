/**
 * The systemd unit and launcher shipped in the runtime bundle. Stop timing comes from the
 * runtime's contract: SIGTERM starts the drain, and systemd waits the whole drain + exit timeout
 * before it would SIGKILL.
 */
import { STOP_TIMEOUT_SECONDS } from '../runtime/contract';
import { SERVE_NODE_FLAGS } from '../runtime/node-flags';

/** Where user data unpacks the bundle and writes the runtime's environment on an instance. */
export const INSTALL_DIR = '/opt/onnx-fleet';
export const ENV_FILE = '/etc/onnx-fleet/runtime.env';
export const UNIT_NAME = 'onnx-fleet.service';
export const SERVICE_USER = 'onnx-fleet';

export function systemdUnit(): string {
  return `[Unit]
Description=onnx-fleet inference runtime (Open Inference Protocol)
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
User=${SERVICE_USER}
Group=${SERVICE_USER}
EnvironmentFile=${ENV_FILE}
ExecStart=${INSTALL_DIR}/current/bin/onnx-fleet serve
Restart=always
RestartSec=1
# SIGTERM starts the drain (readiness 503, keep serving, close, finish in-flight); wait for all of it.
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec=${STOP_TIMEOUT_SECONDS}
LimitNOFILE=65536
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=/var/lib/onnx-fleet
StateDirectory=onnx-fleet

[Install]
WantedBy=multi-user.target
`;
}

/**
 * bin/onnx-fleet inside the bundle: runs the runtime with the bundled Node, wherever it is
 * unpacked, with the V8 flags the runtime needs (runtime/node-flags.ts: only the command line can set them).
 */
export function launcher(): string {
  return `#!/bin/sh
# Runs the onnx-fleet runtime with the Node.js binary shipped in this bundle.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../node/bin/node" ${SERVE_NODE_FLAGS.join(' ')} "$here/../lib/main.js" "$@"
`;
}

/**
 * The instance bootstrap, for real: the rendered user data passes shellcheck and runs to
 * completion in a sandbox (a temporary root) where the AWS CLI, systemctl and the instance
 * metadata service are local stand-ins and the artifact bucket is a directory holding the real
 * x64 runtime bundle. A corrupted artifact is refused by the checksum step and the instance is
 * marked unhealthy. Models are not downloaded by the bootstrap: the runtime is pointed at the model
 * store in poll mode with a local cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { READY_SCRIPT, READY_UNIT_NAME, renderReadyScript, renderUserData, UserDataArgs } from '../../infra/aws/user-data';
import { buildBundle } from '../../packaging/build';
import { DRAIN_DELAY_SECONDS, HEALTH_READY_PATH } from '../../runtime/contract';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let bundle: Buffer;

beforeAll(async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-userdata-bundle-'));
  bundle = fs.readFileSync((await buildBundle('x64', out)).file);
}, 300_000);

interface Sandbox {
  root: string;
  calls: string;
  run(): { status: number | null; stderr: string };
}

/** Stand-ins for the commands the bootstrap calls, each logging its arguments. */
function sandbox(args: UserDataArgs, bucketFiles: Record<string, Buffer>): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-userdata-'));
  const root = path.join(dir, 'root');
  const bin = path.join(dir, 'bin');
  const bucket = path.join(dir, 'bucket');
  const calls = path.join(dir, 'calls.log');
  for (const d of [root, bin, bucket]) fs.mkdirSync(d, { recursive: true });
  for (const [key, data] of Object.entries(bucketFiles)) {
    fs.mkdirSync(path.dirname(path.join(bucket, key)), { recursive: true });
    fs.writeFileSync(path.join(bucket, key), data);
  }
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> "${calls}"\n${body}\n`, { mode: 0o755 });
  stub('aws', `case "$1 $2" in
  "s3 cp") src="\${3#s3://${args.artifactBucket}/}"; cp "${bucket}/$src" "$4" ;;
  "secretsmanager get-secret-value") echo '{"username":"onnx_fleet","password":"p@ss:w/rd"}' ;;
  "autoscaling set-instance-health") ;;
  "autoscaling complete-lifecycle-action") ;;
  *) exit 2 ;;
esac`);
  stub('systemctl', 'exit 0');
  stub('useradd', 'exit 0');
  stub('chown', 'exit 0');
  stub('id', 'exit 1');
  // IMDS answers with a token and an instance id; the readiness probe of the started unit succeeds.
  stub('curl', `case "$*" in
  *api/token*) echo token ;;
  *instance-id*) echo i-0123456789abcdef0 ;;
  *tags/instance/aws:autoscaling:groupName*) echo onnx-fleet-fleet-asg ;;
  *${HEALTH_READY_PATH}*) exit 0 ;;
  *) exit 7 ;;
esac`);
  const script = path.join(dir, 'user-data.sh');
  fs.writeFileSync(script, renderUserData(args), { mode: 0o755 });
  return {
    root,
    calls,
    run: () => {
      const r = spawnSync('/bin/bash', [script], { env: { PATH: `${bin}:/usr/bin:/bin`, BOOTSTRAP_ROOT: root }, encoding: 'utf8', timeout: 120_000 });
      return { status: r.status, stderr: r.stderr };
    },
  };
}

const STORE = 's3://onnx-fleet-models-bucket/models/?region=us-east-1';

function args(bundleSha: string): UserDataArgs {
  return {
    region: 'us-east-1',
    artifactBucket: 'artifacts-bucket',
    bundle: { key: `runtime/${bundleSha}/onnx-fleet-runtime-linux-x64.tar.gz`, sha256: bundleSha },
    models: { location: STORE, controlMode: 'poll', pollSecs: 20 },
    shardBuckets: ['shard-0', 'shard-1'],
    database: { writerHost: 'db.example.internal', readerHosts: ['r0.example.internal', 'r1.example.internal'], name: 'onnx_fleet', secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:rds!db' },
    launchHookName: 'onnx-fleet-ready',
  };
}

test.each([
  ['user data', () => renderUserData(args('a'.repeat(64)))],
  ['readiness gate', () => renderReadyScript(args('a'.repeat(64)))],
])('the rendered %s passes shellcheck', (_name, render) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-shellcheck-')), 'script.sh');
  fs.writeFileSync(file, render());
  expect(() => execFileSync('shellcheck', ['--shell=bash', '--severity=style', file], { encoding: 'utf8' })).not.toThrow();
});

test('the bootstrap installs the bundle, points the runtime at the model store, writes the environment and starts the unit', () => {
  const a = args(sha256(bundle));
  const box = sandbox(a, { [a.bundle.key]: bundle });
  const { status, stderr } = box.run();
  expect(stderr).toContain('runtime ready');
  expect(status).toBe(0);

  const current = path.join(box.root, 'opt/onnx-fleet/current');
  expect(fs.readlinkSync(current)).toBe(path.join(box.root, 'opt/onnx-fleet/releases', a.bundle.sha256));
  expect(fs.existsSync(path.join(current, 'bin/onnx-fleet'))).toBe(true);
  // No model archive: the runtime mirrors the store into its cache directory, which the bootstrap prepares.
  expect(fs.existsSync(path.join(box.root, 'var/lib/onnx-fleet/model-cache'))).toBe(true);
  expect(fs.existsSync(path.join(box.root, 'var/lib/onnx-fleet/models'))).toBe(false);
  expect(fs.existsSync(path.join(box.root, 'etc/systemd/system/onnx-fleet.service'))).toBe(true);

  const env = fs.readFileSync(path.join(box.root, 'etc/onnx-fleet/runtime.env'), 'utf8');
  expect(env).toContain(`ONNX_FLEET_MODEL_REPOSITORY=${STORE}\n`);
  expect(env).toContain('ONNX_FLEET_MODEL_CONTROL_MODE=poll\n');
  expect(env).toContain('ONNX_FLEET_REPOSITORY_POLL_SECS=20\n');
  expect(env).toContain('ONNX_FLEET_MODEL_CACHE_DIR=/var/lib/onnx-fleet/model-cache\n');
  expect(env).toContain('ONNX_FLEET_HOST=0.0.0.0');
  expect(env).toContain(`ONNX_FLEET_DRAIN_DELAY_SECONDS=${DRAIN_DELAY_SECONDS}`);
  expect(env).toContain('ONNX_FLEET_CAPTURE_SHARDS=s3://shard-0,s3://shard-1');
  expect(env).toContain('ONNX_FLEET_DATABASE_WRITER_URL=postgresql://onnx_fleet:p%40ss%3Aw%2Frd@db.example.internal:5432/onnx_fleet?sslmode=require');
  expect(env).toMatch(/ONNX_FLEET_DATABASE_READER_URLS=postgresql:\/\/[^\n]*@r0\.example\.internal[^\n]*,postgresql:\/\/[^\n]*@r1\.example\.internal/);
  // The saturation signal's CloudWatch dimension and the SDK's region (it does not read the region from IMDS).
  expect(env).toContain('ONNX_FLEET_AUTOSCALING_GROUP_NAME=onnx-fleet-fleet-asg');
  expect(env).toContain('ONNX_FLEET_CLOUDWATCH_NAMESPACE=ONNXFleet');
  expect(env).toContain('AWS_REGION=us-east-1');
  expect(fs.statSync(path.join(box.root, 'etc/onnx-fleet/runtime.env')).mode & 0o777).toBe(0o640);

  const calls = fs.readFileSync(box.calls, 'utf8');
  // The one download is the bundle: nothing the bootstrap fetches depends on the models.
  expect(calls.match(/^aws s3 cp .*$/gm)).toEqual([`aws s3 cp s3://artifacts-bucket/${a.bundle.key} ${calls.match(/aws s3 cp \S+ (\S+)/)![1]} --region us-east-1 --only-show-errors`]);
  expect(calls).toContain('systemctl enable onnx-fleet.service');
  expect(calls).toContain('systemctl restart onnx-fleet.service');
  expect(calls).not.toContain('set-instance-health');
  // The readiness gate is installed for later boots (warm pool) and has let the launch continue.
  expect(fs.statSync(path.join(box.root, READY_SCRIPT)).mode & 0o111).toBeTruthy();
  expect(fs.readFileSync(path.join(box.root, 'etc/systemd/system', READY_UNIT_NAME), 'utf8')).toContain(`ExecStart=${READY_SCRIPT}`);
  expect(calls).toContain(`systemctl enable ${READY_UNIT_NAME}`);
  expect(calls).toContain('aws autoscaling complete-lifecycle-action --region us-east-1 --auto-scaling-group-name onnx-fleet-fleet-asg --lifecycle-hook-name onnx-fleet-ready --instance-id i-0123456789abcdef0 --lifecycle-action-result CONTINUE');
}, 120_000);

test('a corrupted artifact is refused by the checksum step and the instance is marked unhealthy', () => {
  const a = args(sha256(bundle));
  const corrupted = Buffer.from(bundle);
  corrupted[corrupted.length >> 1] ^= 0xff;
  const box = sandbox(a, { [a.bundle.key]: corrupted });
  const { status, stderr } = box.run();
  expect(status).toBe(1);
  expect(stderr).toContain(`checksum mismatch`);
  expect(fs.existsSync(path.join(box.root, 'opt/onnx-fleet/current'))).toBe(false);
  const calls = fs.readFileSync(box.calls, 'utf8');
  expect(calls).toContain('--lifecycle-action-result ABANDON');
  expect(calls).toContain('aws autoscaling set-instance-health --region us-east-1 --instance-id i-0123456789abcdef0 --health-status Unhealthy');
  expect(calls).not.toContain('systemctl');
  expect(calls).not.toContain('CONTINUE');
}, 120_000);

describe('the readiness gate', () => {
  /** Runs the gate with the runtime never ready; `pending` says whether a launch lifecycle action waits. */
  function neverReady(pending: boolean): { status: number | null; calls: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-fleet-ready-'));
    const calls = path.join(dir, 'calls.log');
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), `#!/bin/bash\necho "${name} $*" >> "${calls}"\n${body}\n`, { mode: 0o755 });
    stub('aws', `case "$2" in complete-lifecycle-action) exit ${pending ? 0 : 254} ;; set-instance-health) exit 0 ;; *) exit 2 ;; esac`);
    stub('curl', `case "$*" in *api/token*) echo token ;; *instance-id*) echo i-0123456789abcdef0 ;; *groupName*) echo asg ;; *) exit 7 ;; esac`);
    stub('seq', 'echo 1 2 3'); // three polls instead of the whole startup budget
    stub('sleep', 'exit 0');
    const script = path.join(dir, 'ready.sh');
    fs.writeFileSync(script, renderReadyScript({ region: 'eu-west-1', launchHookName: 'onnx-fleet-ready' }), { mode: 0o755 });
    const r = spawnSync('/bin/bash', [script], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
    return { status: r.status, calls: fs.readFileSync(calls, 'utf8') };
  }

  test('a runtime never ready abandons the pending launch', () => {
    const { status, calls } = neverReady(true);
    expect(status).toBe(1);
    expect(calls.match(/\/v2\/health\/ready/g)).toHaveLength(3);
    expect(calls).toContain('aws autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name asg --lifecycle-hook-name onnx-fleet-ready --instance-id i-0123456789abcdef0 --lifecycle-action-result ABANDON');
    expect(calls).not.toContain('set-instance-health');
  });

  test('with no launch pending (a reboot in service) the instance is marked unhealthy instead', () => {
    const { status, calls } = neverReady(false);
    expect(status).toBe(1);
    expect(calls).toContain('aws autoscaling set-instance-health --region eu-west-1 --instance-id i-0123456789abcdef0 --health-status Unhealthy');
  });
});

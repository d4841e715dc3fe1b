/**
 * Alarms to an SNS topic: unhealthy hosts, 5xx rate, p99 latency, shed
 * requests (the runtime answers 503 when its queues are full), database writer CPU, Aurora
 * replica lag (per reader and cluster-wide) and the writer's free local storage; per fleet, model
 * releases' health from the runtime's own metrics: a model version that failed to load, a per-model
 * canary routed out. The unhealthy-host and 5xx-rate alarms also gate instance refreshes (model
 * release alarms do not: a model release is not a fleet release).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { MODEL_RELEASE_METRIC, SATURATION_METRIC } from '../../runtime/contract';

export interface MonitoringArgs {
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  /** The Aurora cluster and its reader instances (the writer is watched through the cluster's WRITER role). */
  database: { clusterIdentifier: pulumi.Input<string>; readerIdentifiers: pulumi.Input<string>[] };
  kmsKeyArn: pulumi.Input<string>;
  latencyP99Seconds: number;
  alarmEmail?: string;
  tags?: Record<string, string>;
}

export const MONITORING_DEFAULTS = {
  /** Target 5xx share of requests that pages someone. */
  errorRatePercent: 1,
  /** 503s per minute (load shedding) that say the fleet is too small. */
  shedPerMinute: 60,
  dbCpuPercent: 80,
  /** AuroraReplicaLag is in milliseconds; Aurora readers normally trail the writer by tens of ms. */
  replicaLagMilliseconds: 2000,
  /** Aurora's cluster volume grows by itself; the instance's local storage (temp files, logs) does not. */
  freeLocalStorageBytes: 2 * 1024 ** 3,
};

export class Monitoring extends pulumi.ComponentResource {
  private readonly newAlarm: (suffix: string, a: Omit<aws.cloudwatch.MetricAlarmArgs, 'alarmActions' | 'okActions'>) => aws.cloudwatch.MetricAlarm;
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
  /** Alarms that stop and roll back an instance refresh. */
  readonly rollbackAlarmNames: pulumi.Output<string>[];

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:Monitoring', name, {}, opts);
    const parent = { parent: this };
    const d = MONITORING_DEFAULTS;
    this.topic = new aws.sns.Topic(name, { kmsMasterKeyId: args.kmsKeyArn, tags: args.tags }, parent);
    if (args.alarmEmail) new aws.sns.TopicSubscription(`${name}-email`, { topic: this.topic.arn, protocol: 'email', endpoint: args.alarmEmail }, parent);
    const actions = { alarmActions: [this.topic.arn], okActions: [this.topic.arn] };
    const lb = { LoadBalancer: args.albArnSuffix, TargetGroup: args.targetGroupArnSuffix };
    const alarm = (suffix: string, a: Omit<aws.cloudwatch.MetricAlarmArgs, 'alarmActions' | 'okActions'>) => {
      const created = new aws.cloudwatch.MetricAlarm(`${name}-${suffix}`, { ...a, ...actions, tags: args.tags }, parent);
      this.alarms.push(created);
      return created;
    };

    const unhealthy = alarm('unhealthy-hosts', {
      alarmDescription: 'Targets failing the runtime readiness check (the ASG replaces them; persistent = a bad deploy)',
      namespace: 'AWS/ApplicationELB', metricName: 'UnHealthyHostCount', dimensions: lb, statistic: 'Maximum',
      period: 60, evaluationPeriods: 3, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
    });
    const errors = alarm('5xx-rate', {
      alarmDescription: `More than ${d.errorRatePercent} % of requests answered 5xx`,
      comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 3, threshold: d.errorRatePercent, treatMissingData: 'notBreaching',
      metricQueries: [
        { id: 'errors', metric: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', dimensions: { LoadBalancer: args.albArnSuffix }, period: 60, stat: 'Sum' } },
        { id: 'elb', metric: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_ELB_5XX_Count', dimensions: { LoadBalancer: args.albArnSuffix }, period: 60, stat: 'Sum' } },
        { id: 'requests', metric: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: { LoadBalancer: args.albArnSuffix }, period: 60, stat: 'Sum' } },
        { id: 'rate', expression: '100 * (FILL(errors, 0) + FILL(elb, 0)) / MAX([requests, 1])', label: '5xx %', returnData: true },
      ],
    });
    alarm('latency-p99', {
      alarmDescription: `p99 target response time above ${args.latencyP99Seconds} s`,
      namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', dimensions: lb, extendedStatistic: 'p99',
      period: 60, evaluationPeriods: 5, threshold: args.latencyP99Seconds, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
    });
    alarm('shed-requests', {
      alarmDescription: 'The runtime is shedding load (503 when its queues are full): scaling is behind the traffic',
      namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', dimensions: lb, statistic: 'Sum',
      period: 60, evaluationPeriods: 2, threshold: d.shedPerMinute, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
    });
    // Aurora publishes per-role cluster metrics (DBClusterIdentifier + Role): they follow the writer through a failover.
    const writer = { DBClusterIdentifier: args.database.clusterIdentifier, Role: 'WRITER' };
    alarm('db-cpu', { alarmDescription: 'Database writer CPU high', namespace: 'AWS/RDS', metricName: 'CPUUtilization', dimensions: writer, statistic: 'Average', period: 300, evaluationPeriods: 3, threshold: d.dbCpuPercent, comparisonOperator: 'GreaterThanThreshold' });
    alarm('db-free-local-storage', { alarmDescription: 'Database writer running out of local storage (temporary files, logs)', namespace: 'AWS/RDS', metricName: 'FreeLocalStorage', dimensions: writer, statistic: 'Minimum', period: 300, evaluationPeriods: 1, threshold: d.freeLocalStorageBytes, comparisonOperator: 'LessThanThreshold' });
    if (args.database.readerIdentifiers.length > 0) {
      // Cluster-wide: the largest lag of any reader, whichever instances are readers after a failover.
      alarm('db-replica-lag-max', { alarmDescription: 'An Aurora reader is lagging the writer', namespace: 'AWS/RDS', metricName: 'AuroraReplicaLagMaximum', dimensions: { DBClusterIdentifier: args.database.clusterIdentifier }, statistic: 'Maximum', period: 60, evaluationPeriods: 5, threshold: d.replicaLagMilliseconds, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'breaching' });
    }
    // Per reader: a reader promoted to writer publishes no AuroraReplicaLag, so missing data is not a breach here.
    args.database.readerIdentifiers.forEach((reader, i) =>
      alarm(`db-replica-lag-${i}`, { alarmDescription: `Aurora reader ${i} lagging the writer`, namespace: 'AWS/RDS', metricName: 'AuroraReplicaLag', dimensions: { DBInstanceIdentifier: reader }, statistic: 'Maximum', period: 60, evaluationPeriods: 5, threshold: d.replicaLagMilliseconds, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching' }),
    );
    this.rollbackAlarmNames = [unhealthy.name, errors.name];
    this.newAlarm = alarm;

    this.registerOutputs({ topicArn: this.topic.arn, alarms: this.alarms.map((a) => a.name) });
  }

  /**
   * Model release alarms for one Auto Scaling group, on what its runtimes publish every 10 s
   * (runtime/cloudwatch-publisher.ts, the dimensions of CLOUDWATCH_DIMENSIONS): any failed load in a
   * minute, any canary routed out. `prefix` names a second fleet's alarms ('' for the main fleet).
   */
  watchModelReleases(prefix: string, groupName: pulumi.Input<string>): aws.cloudwatch.MetricAlarm[] {
    const group = { [SATURATION_METRIC.groupDimension]: groupName };
    const common = { namespace: SATURATION_METRIC.namespace, dimensions: group, period: 60, evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching' };
    return [
      this.newAlarm(`${prefix}model-load-failures`, {
        ...common,
        alarmDescription: 'A model version failed to load on an instance (the versions serving kept serving): the reason is in POST /v2/repository/index and onnx_fleet_model_load_failures_total on the instances; publish a fixed version',
        metricName: MODEL_RELEASE_METRIC.loadFailures,
        statistic: 'Sum',
      }),
      this.newAlarm(`${prefix}model-canary-routed-out`, {
        ...common,
        alarmDescription: 'A per-model canary breached its bounds and was routed out on an instance (release.json): roll it back with onnx-fleet models rollback',
        metricName: MODEL_RELEASE_METRIC.canariesRoutedOut,
        statistic: 'Maximum',
      }),
    ];
  }
}

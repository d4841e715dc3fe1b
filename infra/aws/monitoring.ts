/**
 * Alarms to an SNS topic: unhealthy hosts, 5xx rate, p99 latency, shed
 * requests (the runtime answers 503 when its queues are full), database CPU, replica lag and
 * free storage. The unhealthy-host and 5xx-rate alarms also gate instance refreshes.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface MonitoringArgs {
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  databaseIdentifiers: { primary: pulumi.Input<string>; replicas: pulumi.Input<string>[] };
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
  replicaLagSeconds: 30,
  freeStorageBytes: 10 * 1024 ** 3,
};

export class Monitoring extends pulumi.ComponentResource {
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
    const db = (id: pulumi.Input<string>) => ({ DBInstanceIdentifier: id });
    alarm('db-cpu', { alarmDescription: 'Database primary CPU high', namespace: 'AWS/RDS', metricName: 'CPUUtilization', dimensions: db(args.databaseIdentifiers.primary), statistic: 'Average', period: 300, evaluationPeriods: 3, threshold: d.dbCpuPercent, comparisonOperator: 'GreaterThanThreshold' });
    alarm('db-free-storage', { alarmDescription: 'Database primary running out of storage', namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', dimensions: db(args.databaseIdentifiers.primary), statistic: 'Minimum', period: 300, evaluationPeriods: 1, threshold: d.freeStorageBytes, comparisonOperator: 'LessThanThreshold' });
    args.databaseIdentifiers.replicas.forEach((replica, i) =>
      alarm(`db-replica-lag-${i}`, { alarmDescription: `Read replica ${i} lagging the primary`, namespace: 'AWS/RDS', metricName: 'ReplicaLag', dimensions: db(replica), statistic: 'Maximum', period: 60, evaluationPeriods: 5, threshold: d.replicaLagSeconds, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'breaching' }),
    );
    this.rollbackAlarmNames = [unhealthy.name, errors.name];

    this.registerOutputs({ topicArn: this.topic.arn, alarms: this.alarms.map((a) => a.name) });
  }
}

/**
 * The operations dashboard: traffic, latency, errors (including shed 503s), target health,
 * fleet size, and the Aurora cluster's load, connections and replica lag on one page.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface DashboardArgs {
  region: string;
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  autoscalingGroupName: pulumi.Input<string>;
  databaseClusterIdentifier: pulumi.Input<string>;
  databaseReaderIdentifiers: pulumi.Input<string>[];
}

export class Dashboard extends pulumi.ComponentResource {
  readonly dashboard: aws.cloudwatch.Dashboard;

  constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super('onnx-fleet:aws:Dashboard', name, {}, opts);
    const widget = (title: string, metrics: unknown[][], stat = 'Sum') => ({ type: 'metric', width: 12, height: 6, properties: { title, region: args.region, stat, period: 60, metrics } });
    this.dashboard = new aws.cloudwatch.Dashboard(
      name,
      {
        dashboardName: name,
        dashboardBody: pulumi.all([args.albArnSuffix, args.targetGroupArnSuffix, args.autoscalingGroupName, args.databaseClusterIdentifier, pulumi.all(args.databaseReaderIdentifiers)]).apply(([alb, tg, asg, db, readers]) =>
          JSON.stringify({
            widgets: [
              widget('Requests', [['AWS/ApplicationELB', 'RequestCount', 'LoadBalancer', alb]]),
              widget('Latency p50 / p99', [['AWS/ApplicationELB', 'TargetResponseTime', 'LoadBalancer', alb, { stat: 'p50' }], ['...', { stat: 'p99' }]], 'p99'),
              widget('5xx (incl. shed 503s)', [['AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', 'LoadBalancer', alb], ['AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', 'LoadBalancer', alb]]),
              widget('Healthy / unhealthy targets', [['AWS/ApplicationELB', 'HealthyHostCount', 'TargetGroup', tg, 'LoadBalancer', alb], ['AWS/ApplicationELB', 'UnHealthyHostCount', 'TargetGroup', tg, 'LoadBalancer', alb]], 'Maximum'),
              widget('Instances', [['AWS/AutoScaling', 'GroupInServiceInstances', 'AutoScalingGroupName', asg], ['AWS/AutoScaling', 'GroupDesiredCapacity', 'AutoScalingGroupName', asg]], 'Average'),
              widget('Database CPU (writer, readers)', [['AWS/RDS', 'CPUUtilization', 'DBClusterIdentifier', db, 'Role', 'WRITER'], ['AWS/RDS', 'CPUUtilization', 'DBClusterIdentifier', db, 'Role', 'READER']], 'Average'),
              widget('Database connections (writer, readers)', [['AWS/RDS', 'DatabaseConnections', 'DBClusterIdentifier', db, 'Role', 'WRITER'], ['AWS/RDS', 'DatabaseConnections', 'DBClusterIdentifier', db, 'Role', 'READER']], 'Maximum'),
              // AuroraReplicaLag is in milliseconds, per reader instance.
              ...(readers.length > 0 ? [widget('Aurora replica lag (ms)', readers.map((r) => ['AWS/RDS', 'AuroraReplicaLag', 'DBInstanceIdentifier', r]), 'Maximum')] : []),
            ],
          }),
        ),
      },
      { parent: this },
    );
    this.registerOutputs({ dashboardName: this.dashboard.dashboardName });
  }
}

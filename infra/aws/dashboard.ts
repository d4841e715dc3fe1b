/**
 * The operations dashboard: traffic, latency, errors (including shed 503s), target health,
 * fleet size and database load on one page.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface DashboardArgs {
  region: string;
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  autoscalingGroupName: pulumi.Input<string>;
  databaseIdentifier: pulumi.Input<string>;
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
        dashboardBody: pulumi.all([args.albArnSuffix, args.targetGroupArnSuffix, args.autoscalingGroupName, args.databaseIdentifier]).apply(([alb, tg, asg, db]) =>
          JSON.stringify({
            widgets: [
              widget('Requests', [['AWS/ApplicationELB', 'RequestCount', 'LoadBalancer', alb]]),
              widget('Latency p50 / p99', [['AWS/ApplicationELB', 'TargetResponseTime', 'LoadBalancer', alb, { stat: 'p50' }], ['...', { stat: 'p99' }]], 'p99'),
              widget('5xx (incl. shed 503s)', [['AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', 'LoadBalancer', alb], ['AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', 'LoadBalancer', alb]]),
              widget('Healthy / unhealthy targets', [['AWS/ApplicationELB', 'HealthyHostCount', 'TargetGroup', tg, 'LoadBalancer', alb], ['AWS/ApplicationELB', 'UnHealthyHostCount', 'TargetGroup', tg, 'LoadBalancer', alb]], 'Maximum'),
              widget('Instances', [['AWS/AutoScaling', 'GroupInServiceInstances', 'AutoScalingGroupName', asg], ['AWS/AutoScaling', 'GroupDesiredCapacity', 'AutoScalingGroupName', asg]], 'Average'),
              widget('Database CPU', [['AWS/RDS', 'CPUUtilization', 'DBInstanceIdentifier', db]], 'Average'),
            ],
          }),
        ),
      },
      { parent: this },
    );
    this.registerOutputs({ dashboardName: this.dashboard.dashboardName });
  }
}

/** CloudWatch metric alarms and dashboards. */
import { CLOUDWATCH_DIMENSIONS, SATURATION_METRIC } from '../../runtime/contract';
import { autoName, eachResource, num } from './graph';
import type { AwsRule } from './types';

const POLICY = 'aws:autoscaling/policy:Policy';
/** What a runtime metric is watched by: an alarm's metric, or a target tracking policy's customized metric. */
function watchedMetric(type: string, i: Record<string, any>): { namespace?: string; metricName?: string; dimensions: string[] } | undefined {
  if (type === ALARM) return i.metricName === undefined ? undefined : { namespace: i.namespace, metricName: i.metricName, dimensions: Object.keys(i.dimensions ?? {}) };
  const m = i.targetTrackingConfiguration?.customizedMetricSpecification;
  return m ? { namespace: m.namespace, metricName: m.metricName, dimensions: (m.metricDimensions ?? []).map((d: any) => d.name) } : undefined;
}

const ALARM = 'aws:cloudwatch/metricAlarm:MetricAlarm';
const DASHBOARD = 'aws:cloudwatch/dashboard:Dashboard';
const PUT_ALARM = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html';
const DATA_QUERY = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html';
const validPeriod = (p: number) => [10, 20, 30].includes(p) || (Number.isInteger(p) && p > 0 && p % 60 === 0);
/** Every period an alarm evaluates: its own, or its metric queries'. */
const periods = (i: Record<string, any>): number[] => (i.metricQueries ? i.metricQueries.filter((q: any) => q.metric).map((q: any) => num(q.metric.period)!) : [num(i.period)!]);

export const cloudWatchRules: AwsRule[] = [
  {
    id: 'cw-alarm-period',
    resourceTypes: [ALARM],
    resource: 'CloudWatch alarm',
    setting: 'Period, Metrics[].MetricStat.Period',
    rule: 'An alarm period is 10, 20, 30 or a multiple of 60 seconds.',
    sources: [PUT_ALARM],
    keys: [],
    checkGraph: eachResource([ALARM], (i) => periods(i).filter((p) => !validPeriod(p)).map((p) => `period ${p} s, expected 10, 20, 30 or a multiple of 60`)),
    violation: { base: 'dev', patch: [{ type: ALARM, name: 'onnx-fleet-monitoring-latency-p99', set: { period: 45 } }] },
  },
  {
    id: 'cw-alarm-evaluation-range',
    resourceTypes: [ALARM],
    resource: 'CloudWatch alarm',
    setting: 'EvaluationPeriods × Period, DatapointsToAlarm',
    rule: 'Period × evaluation periods is at most one day for periods under an hour (seven days otherwise), and datapoints to alarm are at most the evaluation periods.',
    sources: [PUT_ALARM],
    keys: [],
    checkGraph: eachResource([ALARM], (i) => {
      const n = num(i.evaluationPeriods)!;
      const out = periods(i)
        .filter((p) => p * n > (p < 3600 ? 86400 : 604800))
        .map((p) => `${n} evaluation periods of ${p} s span ${p * n} s, expected at most ${p < 3600 ? 86400 : 604800}`);
      if (i.datapointsToAlarm !== undefined && !(num(i.datapointsToAlarm)! >= 1 && num(i.datapointsToAlarm)! <= n)) out.push(`datapoints to alarm ${i.datapointsToAlarm} of ${n}`);
      return out;
    }),
    violation: { base: 'dev', patch: [{ type: ALARM, name: 'onnx-fleet-monitoring-unhealthy-hosts', set: { evaluationPeriods: 1441 } }] },
  },
  {
    id: 'cw-alarm-statistic',
    resourceTypes: [ALARM],
    resource: 'CloudWatch alarm',
    setting: 'Statistic, ExtendedStatistic, Metrics',
    rule: 'A single-metric alarm has exactly one of Statistic and ExtendedStatistic; a metric math alarm sets neither, nor MetricName, Namespace, Dimensions or Period.',
    sources: [PUT_ALARM],
    keys: [],
    checkGraph: eachResource([ALARM], (i) => {
      if (i.metricQueries) {
        const set = ['statistic', 'extendedStatistic', 'metricName', 'namespace', 'dimensions', 'period'].filter((k) => i[k] !== undefined);
        return set.length ? `metric math alarm also sets ${set.join(', ')}` : undefined;
      }
      return (i.statistic === undefined) === (i.extendedStatistic === undefined) ? 'expected exactly one of statistic and extendedStatistic' : undefined;
    }),
    violation: { base: 'dev', patch: [{ type: ALARM, name: 'onnx-fleet-monitoring-latency-p99', set: { statistic: 'Average' } }] },
  },
  {
    id: 'cw-alarm-metric-queries',
    resourceTypes: [ALARM],
    resource: 'CloudWatch metric math alarm',
    setting: 'Metrics[].Id, Metrics[].ReturnData',
    rule: 'Query ids start with a lowercase letter, use letters, digits and _ and are unique; exactly one query returns data; at most 10 metrics and 10 expressions.',
    sources: [DATA_QUERY, PUT_ALARM],
    keys: [],
    checkGraph: eachResource([ALARM], (i) => {
      const qs: any[] = i.metricQueries ?? [];
      if (!qs.length) return undefined;
      const ids = qs.map((q) => q.id);
      const out = ids.filter((id) => !/^[a-z][A-Za-z0-9_]*$/.test(String(id))).map((id) => `query id ${JSON.stringify(id)}`);
      if (new Set(ids).size !== ids.length) out.push('query ids repeat');
      const returning = qs.filter((q) => q.returnData === true).length;
      if (returning !== 1) out.push(`${returning} queries return data, expected exactly 1`);
      if (qs.filter((q) => q.metric).length > 10 || qs.filter((q) => q.expression).length > 10) out.push('more than 10 metrics or 10 expressions');
      return out;
    }),
    violation: { base: 'dev', patch: [{ type: ALARM, name: 'onnx-fleet-monitoring-5xx-rate', set: { 'metricQueries.0.id': 'Errors' } }] },
  },
  {
    id: 'cw-custom-metric-dimensions',
    resourceTypes: [ALARM, POLICY],
    resource: 'CloudWatch alarm, target tracking policy (customized metric)',
    setting: 'Namespace, MetricName, Dimensions',
    rule: "CloudWatch treats each unique combination of a metric's dimensions as a metric of its own: an alarm or a scaling policy on a published metric must name exactly the dimensions it is published with (the runtime's, for the ONNXFleet namespace), or it watches a metric that never has data.",
    sources: ['https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension', PUT_ALARM],
    keys: [],
    checkGraph: (all) =>
      all
        .filter((r) => r.type === ALARM || r.type === POLICY)
        .flatMap((r) => {
          const m = watchedMetric(r.type, r.inputs as Record<string, any>);
          if (!m || m.namespace !== SATURATION_METRIC.namespace) return [];
          const published = CLOUDWATCH_DIMENSIONS[String(m.metricName)];
          const resource = `${r.type} ${r.name}`;
          if (!published) return [{ resource, message: `metric ${m.metricName} is not one the runtime publishes to ${SATURATION_METRIC.namespace} (${Object.keys(CLOUDWATCH_DIMENSIONS).join(', ')})` }];
          const same = m.dimensions.length === published.length && published.every((d) => m.dimensions.includes(d));
          return same ? [] : [{ resource, message: `${m.metricName} with dimensions [${m.dimensions.join(', ')}], but the runtime publishes it with [${published.join(', ')}]` }];
        }),
    violation: { base: 'dev', patch: [{ type: ALARM, name: 'onnx-fleet-monitoring-model-load-failures', set: { 'dimensions.model': 'iris' } }] },
  },
  {
    id: 'cw-dashboard',
    resourceTypes: [DASHBOARD],
    resource: 'CloudWatch dashboard',
    setting: 'DashboardName, DashboardBody',
    rule: 'A dashboard name has at most 255 letters, digits, - and _; the body is a JSON object whose widgets (at most 500) each have a type.',
    sources: ['https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html', 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html'],
    keys: [],
    checkGraph: eachResource([DASHBOARD], (i, r) => {
      const out: string[] = [];
      const { name } = autoName(r, 'dashboardName');
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) out.push(`dashboard name ${JSON.stringify(name)}`);
      let body: any;
      try {
        body = JSON.parse(String(i.dashboardBody));
      } catch {
        return [...out, 'dashboard body is not JSON'];
      }
      const widgets = body?.widgets;
      if (!Array.isArray(widgets) || widgets.length > 500 || widgets.some((w: any) => typeof w?.type !== 'string')) out.push('widgets missing, more than 500, or without a type');
      return out;
    }),
    violation: { base: 'dev', patch: [{ type: DASHBOARD, set: { dashboardName: 'onnx fleet' } }] },
  },
];

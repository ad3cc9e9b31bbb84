import { parseRequestTotals, requestTotalsBetween } from './request-metrics';

const BEFORE = `# HELP apiserver_request_duration_seconds Response latency distribution.
# TYPE apiserver_request_duration_seconds histogram
apiserver_request_duration_seconds_bucket{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",le="0.1"} 9
apiserver_request_duration_seconds_sum{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace"} 0.5
apiserver_request_duration_seconds_count{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace"} 10
apiserver_request_duration_seconds_sum{verb="POST",group="",version="v1",resource="pods",subresource="binding",scope="namespace"} 1
apiserver_request_duration_seconds_count{verb="POST",group="",version="v1",resource="pods",subresource="binding",scope="namespace"} 4
apiserver_request_total{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",code="201"} 10
`;

const AFTER = `apiserver_request_duration_seconds_sum{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace"} 2.5
apiserver_request_duration_seconds_count{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace"} 50
apiserver_request_duration_seconds_sum{verb="POST",group="",version="v1",resource="pods",subresource="binding",scope="namespace"} 1
apiserver_request_duration_seconds_count{verb="POST",group="",version="v1",resource="pods",subresource="binding",scope="namespace"} 4
apiserver_request_duration_seconds_sum{verb="PUT",group="coordination.k8s.io",version="v1",resource="leases",subresource="",scope="namespace"} 0.2
apiserver_request_duration_seconds_count{verb="PUT",group="coordination.k8s.io",version="v1",resource="leases",subresource="",scope="namespace"} 20
apiserver_request_duration_seconds_count{verb="GET",group="",version="v1",resource="pods",subresource="",scope="cluster"} 3
apiserver_request_duration_seconds_count{verb="GET",group="",version="v1",resource="pods",subresource="",scope="namespace"} 2
`;

describe('parseRequestTotals', () => {
  it.each([
    { kind: 'POST pods', count: 10, sumSeconds: 0.5 },
    { kind: 'POST pods/binding', count: 4, sumSeconds: 1 },
  ])('reads $kind from the histogram’s _sum and _count, not its buckets or other series', ({ kind, count, sumSeconds }) => {
    expect(parseRequestTotals(BEFORE).get(kind)).toEqual({ count, sumSeconds });
  });

  it('adds up the scopes of one kind', () => {
    expect(parseRequestTotals(AFTER).get('GET pods')).toEqual({ count: 5, sumSeconds: 0 });
  });

  it('ignores comments and text that is not a sample', () => {
    expect(parseRequestTotals('# TYPE x counter\nnot a metric\n\n').size).toBe(0);
  });
});

describe('requestTotalsBetween', () => {
  it('gives what was served between two readings and leaves out idle kinds', () => {
    const delta = requestTotalsBetween(parseRequestTotals(BEFORE), parseRequestTotals(AFTER));
    expect(Object.fromEntries(delta)).toEqual({
      'POST pods': { count: 40, sumSeconds: 2 },
      'PUT leases': { count: 20, sumSeconds: 0.2 },
      'GET pods': { count: 5, sumSeconds: 0 },
    });
  });
});

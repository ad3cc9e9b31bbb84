// End to end: `kube-lite up --workers 3` as a child process, then the real
// kubectl against it: the lecture's Deployment, Service and Ingress, the
// ingress on 127.0.0.1, service environment variables, Service names
// resolved inside a pod (cluster DNS, as root), a node's power loss,
// scaling, a rolling update and its undo, and the example manifests.
//
// Part of `npm test` (which builds first). It needs kubectl on PATH and is
// skipped, saying so, without it. The cluster gets a temporary data dir,
// every port moved by PORT_OFFSET and its own loopback subnet, so it runs
// beside a cluster on the defaults without touching it. It takes a few
// minutes; the timeouts are generous for a loaded 2-core machine, except the
// one the issue sets: 10 replicas Running again within 20 s of the kill.
import { promises as dnsPromises } from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pollUntil } from '@kube-lite/testing';
import { examplesDirectory, LaunchedCluster, suiteNeedingKubectl } from './launched-cluster';

const lectureDirectory = path.join(examplesDirectory, 'lecture');
const DEPLOYMENT = 'ml-model-serving';
const SERVICE = 'ml-model-serving-service';
const SELECTOR = `app=${DEPLOYMENT}`;
/** Clear of every default port of kube-lite (2379-22381, 6443-6444, 10249-10740). */
const PORT_OFFSET = 1000;
const SUBNET = 2;
const INGRESS_PORT = 18080;
const UP_TIMEOUT_MS = 300_000;
/** The promise: a dead node's replicas run elsewhere within 20 s (10 s grace, 5 s toleration, scheduling). */
const FAILOVER_DEADLINE_MS = 20_000;
const ROLLOUT_TIMEOUT_MS = 180_000;
const POLL_MS = 500;

/** Where the process runtime's pods reach a ClusterIP: kube-proxy serves 10.b.c.d at 127.b.c.d. */
function loopbackServiceAddress(clusterIP: string): string {
  return ['127', ...clusterIP.split('.').slice(1)].join('.');
}

interface PodView {
  name: string;
  node: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  image: string;
}

interface Answer {
  status: number;
  body: string;
}

/** What ml-serving answers with (examples/apps/ml-serving). */
interface ServingAnswer {
  pod: string;
  hostname: string;
  version: string;
  path: string;
}

suiteNeedingKubectl('local-cluster e2e')('kube-lite local cluster (end to end)', () => {
  let cluster: LaunchedCluster | undefined;

  const started = (): LaunchedCluster => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };
  const kubectl = (args: string[], timeoutMs?: number): Promise<string> => started().kubectl(args, timeoutMs);
  const kubeLite = (args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }> => started().kubeLite(args, timeoutMs);

  /** One request through the cluster ingress on 127.0.0.1, on a fresh connection so the balancer sees each one. */
  const viaIngress = (urlPath: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port: INGRESS_PORT, path: urlPath, agent: false, timeout: 10_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('timeout', () => request.destroy(new Error('no answer from the ingress within 10 s')));
      request.on('error', reject);
    });

  /** Requests through the ingress every 200 ms until the returned function is called; it resolves with every status (or error). */
  const probeIngress = (): (() => Promise<(number | string)[]>) => {
    const statuses: (number | string)[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        statuses.push(await viaIngress('/app').then((answer) => answer.status, (error: Error) => error.message));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    return async () => {
      probing = false;
      await prober;
      return statuses;
    };
  };

  /** What the issue promises while pods come and go: no connection errors and at least 99% of requests answered 200. */
  const expectServedThroughout = (statuses: (number | string)[]): void => {
    expect(statuses.filter((status) => typeof status === 'string')).toEqual([]);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(Math.floor(statuses.length * 0.99));
  };

  const servingAnswers = async (count: number): Promise<ServingAnswer[]> => {
    const answers: ServingAnswer[] = [];
    for (let i = 0; i < count; i++) {
      const answer = await viaIngress('/app');
      if (answer.status !== 200) throw new Error(`ingress answered ${answer.status}: ${answer.body}`);
      answers.push(JSON.parse(answer.body) as ServingAnswer);
    }
    return answers;
  };

  const pods = async (selector = SELECTOR): Promise<PodView[]> => {
    const list = JSON.parse(await kubectl(['get', 'pods', '-l', selector, '-o', 'json'])) as {
      items: {
        metadata: { name: string; deletionTimestamp?: string };
        spec: { nodeName?: string; containers: { image: string }[] };
        status: { phase?: string; conditions?: { type: string; status: string }[] };
      }[];
    };
    return list.items.map((pod) => ({
      name: pod.metadata.name,
      node: pod.spec.nodeName ?? '',
      phase: pod.status.phase ?? '',
      ready: pod.status.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false,
      terminating: pod.metadata.deletionTimestamp !== undefined,
      image: pod.spec.containers[0]?.image ?? '',
    }));
  };

  const running = (list: PodView[]): PodView[] => list.filter((pod) => pod.phase === 'Running' && !pod.terminating);

  /** Polls until `check` returns a value, or fails with the last problem and the pods seen. */
  const eventually = <T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> =>
    pollUntil(what, timeoutMs, POLL_MS, check, async () => ` Pods: ${JSON.stringify(await pods())}`);

  const rolloutTo = async (image: string, version: string, replicas: number): Promise<void> => {
    await kubectl(['rollout', 'status', `deployment/${DEPLOYMENT}`, `--timeout=${ROLLOUT_TIMEOUT_MS / 1000}s`], ROLLOUT_TIMEOUT_MS + 10_000);
    await eventually(`${replicas} replicas on ${image}`, 60_000, async () => {
      const live = running(await pods());
      return live.length === replicas && live.every((pod) => pod.image === image) ? true : undefined;
    });
    // Old pods leave the endpoints as they terminate; then every answer comes from the new version.
    const answers = await eventually(`every ingress answer from version ${version}`, 60_000, async () => {
      const batch = await servingAnswers(10);
      return batch.every((answer) => answer.version === version) ? batch : undefined;
    });
    expect(new Set(answers.map((answer) => answer.version))).toEqual(new Set([version]));
  };

  beforeAll(async () => {
    cluster = await LaunchedCluster.up({ dataDirPrefix: 'kube-lite-e2e-', workers: 3, portOffset: PORT_OFFSET, subnet: SUBNET, ingressPort: INGRESS_PORT, upTimeoutMs: UP_TIMEOUT_MS });
  }, UP_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await cluster?.remove();
  }, 180_000);

  it('shows 3 Ready nodes on their own subnet to the real kubectl', async () => {
    const nodes = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] } }[];
    };
    const ready = nodes.items.filter((node) => node.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    expect(ready.map((node) => node.metadata.name).sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);
    const addresses = ready.map((node) => node.status.addresses?.find((address) => address.type === 'InternalIP')?.address).sort();
    expect(addresses).toEqual([`127.0.${SUBNET}.1`, `127.0.${SUBNET}.2`, `127.0.${SUBNET}.3`]);
    expect(started().output).toContain(`curl http://127.0.0.1:${INGRESS_PORT}/app`);
  });

  it('runs the lecture Service, Ingress and Deployment: 10 Running replicas over 3 nodes', async () => {
    // The Service first: pods learn only the Services that exist when they start.
    await kubectl(['apply', '-f', path.join(lectureDirectory, 'service.yaml'), '-f', path.join(lectureDirectory, 'ingress.yaml')]);
    await kubectl(['apply', '-f', path.join(lectureDirectory, 'deployment.yaml')]);
    const spread = await eventually('10 Running replicas on 3 nodes', 180_000, async () => {
      const live = running(await pods());
      return live.length === 10 && new Set(live.map((pod) => pod.node)).size === 3 ? live : undefined;
    });
    expect(spread).toHaveLength(10);
  }, 200_000);

  it('serves kubectl logs and kubectl exec for a replica', async () => {
    const pod = running(await pods())[0];
    if (pod === undefined) throw new Error('no Running replica');
    expect(await kubectl(['logs', pod.name])).toContain(`ml-serving 1.0 listening on`);
    expect((await kubectl(['exec', pod.name, '--', 'echo', 'hello-from-exec'])).trim()).toBe('hello-from-exec');
  }, 90_000);

  it('gives containers their pod name as HOSTNAME and the Services as reachable environment variables', async () => {
    const pod = running(await pods())[0];
    if (pod === undefined) throw new Error('no Running replica');
    const service = JSON.parse(await kubectl(['get', 'service', SERVICE, '-o', 'json'])) as { spec: { clusterIP: string } };
    const kubernetes = JSON.parse(await kubectl(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'json'])) as { spec: { clusterIP: string } };
    expect(kubernetes.spec.clusterIP.startsWith('10.112.')).toBe(true);
    const printed = await kubectl(['exec', pod.name, '--', 'sh', '-c', 'echo "$HOSTNAME|$ML_MODEL_SERVING_SERVICE_SERVICE_HOST|$ML_MODEL_SERVING_SERVICE_SERVICE_PORT|$KUBERNETES_SERVICE_HOST|$KUBERNETES_SERVICE_PORT"']);
    expect(printed.trim().split('|')).toEqual([pod.name, loopbackServiceAddress(service.spec.clusterIP), '80', loopbackServiceAddress(kubernetes.spec.clusterIP), '443']);
    // From inside the pod, through kube-proxy at the address the variables name.
    const fetched = await kubectl(['exec', pod.name, '--', 'sh', '-c', 'curl -s --max-time 10 "http://$ML_MODEL_SERVING_SERVICE_SERVICE_HOST:$ML_MODEL_SERVING_SERVICE_SERVICE_PORT/from-pod"']);
    const answer = JSON.parse(fetched) as ServingAnswer;
    expect(answer.path).toBe('/from-pod');
    expect(running(await pods()).map((candidate) => candidate.name)).toContain(answer.pod);
  }, 90_000);

  it('resolves the lecture Service by its DNS names inside a pod, to what the cluster DNS answers, and fetches through it', async () => {
    const pod = running(await pods())[0];
    if (pod === undefined) throw new Error('no Running replica');
    // Everywhere: the search list and options in env, as the process runtime gives them to every ClusterFirst pod.
    const environment = await kubectl(['exec', pod.name, '--', 'sh', '-c', 'echo "$LOCALDOMAIN|$RES_OPTIONS"']);
    expect(environment.trim()).toBe('default.svc.cluster.local svc.cluster.local cluster.local|ndots:5');
    if (process.getuid?.() !== 0) {
      // Jest prints no reason for an early return; this line does.
      process.stderr.write('local-cluster e2e: Service name resolution inside pods not checked: it needs root (a mount namespace per pod, the DNS on port 53)\n');
      return;
    }
    const service = JSON.parse(await kubectl(['get', 'service', SERVICE, '-o', 'json'])) as { spec: { clusterIP: string } };
    const expected = loopbackServiceAddress(service.spec.clusterIP);
    // What the pod's node's kube-proxy answers, asked directly on port 53 of its node IP (worker-N: 127.0.<subnet>.N).
    const nodeIp = `127.0.${SUBNET}.${pod.node.replace('worker-', '')}`;
    const resolver = new dnsPromises.Resolver({ timeout: 5_000, tries: 2 });
    resolver.setServers([nodeIp]);
    expect(await resolver.resolve4(`${SERVICE}.default.svc.cluster.local`)).toEqual([expected]);
    // The pod's own resolv.conf names that server; the host's does not change.
    expect(await kubectl(['exec', pod.name, '--', 'cat', '/etc/resolv.conf'])).toBe(`nameserver ${nodeIp}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
    expect(fs.readFileSync('/etc/resolv.conf', 'utf8')).not.toContain(nodeIp);
    // The short name through glibc (getent: files, then DNS with the search list)...
    const short = await kubectl(['exec', pod.name, '--', 'getent', 'hosts', SERVICE]);
    expect(short.trim().split(/\s+/)).toEqual([expected, `${SERVICE}.default.svc.cluster.local`]);
    // ...the full name through Node's dns.lookup (getaddrinfo), the pod's own name through its hosts file...
    const lookup = "require('dns').lookup(process.argv[1], { family: 4 }, (error, address) => { if (error) { console.error(error.message); process.exit(1); } console.log(address); })";
    expect((await kubectl(['exec', pod.name, '--', 'node', '-e', lookup, `${SERVICE}.default.svc.cluster.local`])).trim()).toBe(expected);
    const own = await kubectl(['exec', pod.name, '--', 'getent', 'hosts', pod.name]);
    expect(own.trim().split(/\s+/)[1]).toBe(pod.name);
    // ...and a request to the Service by name reaches a replica.
    const fetched = await kubectl(['exec', pod.name, '--', 'curl', '-s', '--max-time', '10', `http://${SERVICE}/by-name`]);
    const answer = JSON.parse(fetched) as ServingAnswer;
    expect(answer.path).toBe('/by-name');
    expect(running(await pods()).map((candidate) => candidate.name)).toContain(answer.pod);
  }, 90_000);

  it('answers through the ingress on 127.0.0.1 from several different pods, each naming itself', async () => {
    const answers = await eventually('ingress answers', 60_000, () => servingAnswers(30));
    const names = new Set(answers.map((answer) => answer.pod));
    const live = new Set(running(await pods()).map((pod) => pod.name));
    expect(names.size).toBeGreaterThanOrEqual(3);
    for (const answer of answers) {
      expect(live.has(answer.pod)).toBe(true);
      expect(answer.hostname).toBe(answer.pod);
      expect(answer.version).toBe('1.0');
      expect(answer.path).toBe('/');
    }
  }, 90_000);

  it(`moves every replica off a powered-off node within ${FAILOVER_DEADLINE_MS / 1000} s, the ingress answering throughout`, async () => {
    const stopProbing = probeIngress();
    let statuses: (number | string)[] = [];
    await kubeLite(['stop-node', 'worker-1']);
    // stop-node returns right after its SIGKILLs: the clock starts at the kill.
    const killedAtMs = Date.now();
    try {
      await eventually('10 Running replicas on the remaining nodes', FAILOVER_DEADLINE_MS, async () => {
        const live = running(await pods()).filter((pod) => pod.node !== 'worker-1');
        return live.length === 10 ? live : undefined;
      });
      expect(Date.now() - killedAtMs).toBeLessThanOrEqual(FAILOVER_DEADLINE_MS + POLL_MS);
    } finally {
      statuses = await stopProbing();
    }
    // The ingress process is not on the node: it kept answering while endpoints on worker-1 died, skipping the
    // dead pods (they refuse connections) for live ones.
    expectServedThroughout(statuses);
    // Once the dead endpoints are gone, every request succeeds, from the surviving nodes' pods.
    const after = await eventually('only 200s through the ingress', 60_000, () => servingAnswers(20));
    const live = running(await pods()).filter((pod) => pod.node !== 'worker-1');
    for (const answer of after) expect(live.map((pod) => pod.name)).toContain(answer.pod);
  }, FAILOVER_DEADLINE_MS + 120_000);

  it('scales to 3, rolls out ml-serving:2.0 (the answers say so), and rolls it back', async () => {
    await kubectl(['scale', `deployment/${DEPLOYMENT}`, '--replicas=3']);
    // Pods of the powered-off worker-1 stay Terminating (as upstream: nobody confirms their end); they are not counted.
    await eventually('3 replicas', 90_000, async () => (running(await pods()).length === 3 ? true : undefined));

    const stopProbing = probeIngress();
    await kubectl(['set', 'image', `deployment/${DEPLOYMENT}`, `${DEPLOYMENT}=ml-serving:2.0`]);
    let statuses: (number | string)[] = [];
    try {
      await rolloutTo('ml-serving:2.0', '2.0', 3);
    } finally {
      statuses = await stopProbing();
    }
    expectServedThroughout(statuses);

    await kubectl(['rollout', 'undo', `deployment/${DEPLOYMENT}`]);
    await rolloutTo('ml-serving:1.0', '1.0', 3);
  }, 3 * ROLLOUT_TIMEOUT_MS);

  it('runs the examples: a crashing pod backs off, a probed pod turns Ready, a Job is accepted', async () => {
    await kubectl(['apply', '-f', path.join(examplesDirectory, 'crashloop-pod.yaml'), '-f', path.join(examplesDirectory, 'probes-pod.yaml'), '-f', path.join(examplesDirectory, 'job.yaml')]);
    const crashing = await eventually('crasher in CrashLoopBackOff', 120_000, async () => {
      const pod = JSON.parse(await kubectl(['get', 'pod', 'crasher', '-o', 'json'])) as {
        status: { containerStatuses?: { restartCount: number; state?: { waiting?: { reason?: string } }; lastState?: { terminated?: { exitCode: number } } }[] };
      };
      const status = pod.status.containerStatuses?.[0];
      return status?.state?.waiting?.reason === 'CrashLoopBackOff' ? status : undefined;
    });
    expect(crashing.restartCount).toBeGreaterThanOrEqual(1);
    expect(crashing.lastState?.terminated?.exitCode).toBe(3);

    const probed = await eventually('probed Ready', 120_000, async () => {
      const [pod] = await pods('app=probed');
      return pod?.ready === true ? pod : undefined;
    });
    expect(probed.phase).toBe('Running');

    const job = JSON.parse(await kubectl(['get', 'job', 'pi-digits', '-o', 'json'])) as { spec: { completions?: number; template: { spec: { restartPolicy?: string } } } };
    expect(job.spec.completions).toBe(1);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  }, 300_000);

  it('stops everything with kube-lite down, and the foreground launcher exits', async () => {
    const { launcher, dataDir } = started();
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'state.json'), 'utf8')) as { components: { process?: { pid: number } }[] };
    await kubeLite(['down'], 180_000);
    const launcherExit = await new Promise<number | null>((resolve) => {
      if (launcher.exitCode !== null) resolve(launcher.exitCode);
      else launcher.once('exit', (code) => resolve(code));
    });
    expect(launcherExit).toBe(0);
    for (const component of state.components) {
      const pid = component.process?.pid;
      if (pid === undefined) continue;
      expect(() => process.kill(pid, 0)).toThrow();
    }
  }, 200_000);
});

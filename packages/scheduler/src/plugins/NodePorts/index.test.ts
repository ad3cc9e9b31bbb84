import { checkFilterTable } from '../../test-fixtures';
import { NodePorts } from '.';

describe('NodePorts', () => {
  checkFilterTable(new NodePorts(), [
    { name: 'no host ports (skipped)', pod: {}, node: {}, existing: [{ hostPorts: [{ hostPort: 80 }] }] },
    { name: 'free port', pod: { hostPorts: [{ hostPort: 80 }] }, node: {}, existing: [{ hostPorts: [{ hostPort: 8080 }] }] },
    {
      name: 'same port and protocol',
      pod: { hostPorts: [{ hostPort: 80 }] },
      node: {},
      existing: [{ hostPorts: [{ hostPort: 80 }] }],
      code: 'Unschedulable',
      reasons: ["node(s) didn't have free ports for the requested pod ports"],
    },
    { name: 'same port, other protocol', pod: { hostPorts: [{ hostPort: 53, protocol: 'UDP' }] }, node: {}, existing: [{ hostPorts: [{ hostPort: 53, protocol: 'TCP' }] }] },
    { name: 'same port, two specific addresses', pod: { hostPorts: [{ hostPort: 80, hostIP: '10.0.0.1' }] }, node: {}, existing: [{ hostPorts: [{ hostPort: 80, hostIP: '10.0.0.2' }] }] },
    { name: 'specific address against 0.0.0.0', pod: { hostPorts: [{ hostPort: 80, hostIP: '10.0.0.1' }] }, node: {}, existing: [{ hostPorts: [{ hostPort: 80 }] }], code: 'Unschedulable' },
    { name: '0.0.0.0 against a specific address', pod: { hostPorts: [{ hostPort: 80 }] }, node: {}, existing: [{ hostPorts: [{ hostPort: 80, hostIP: '10.0.0.1' }] }], code: 'Unschedulable' },
  ]);
});

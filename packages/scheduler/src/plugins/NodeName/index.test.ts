import { checkFilterTable } from '../../test-fixtures';
import { NodeName } from '.';

describe('NodeName', () => {
  checkFilterTable(new NodeName(), [
    { name: 'no nodeName', pod: {}, node: {} },
    { name: 'matching nodeName', pod: { nodeName: 'n1' }, node: {} },
    { name: 'other nodeName', pod: { nodeName: 'n2' }, node: {}, code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match the requested node name"] },
  ]);
});

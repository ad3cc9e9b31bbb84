import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { Discovery } from './discovery';
import { OpenApi } from './openapi';
import { configMapDescription } from './test-fixture';

const Document = new protobuf.Root().loadSync(path.resolve(__dirname, '../../../../proto/openapi/openapi-v2.proto'), { keepCase: true }).lookupType('openapi.v2.Document');

interface DecodedOperation {
  operation_id: string;
  parameters: Array<{ parameter: { non_body_parameter: { query_parameter_sub_schema?: { name: string; in: string } } } }>;
  vendor_extension: Array<{ name: string; value: { yaml: string } }>;
}

test('the v2 protobuf document names each kind on its patch operation, with the fieldValidation parameter, as kubectl looks for them', () => {
  const openApi = new OpenApi(new Discovery([configMapDescription], ''), 'v1.32.0-kube-lite');
  const document = Document.toObject(Document.decode(openApi.v2Document('protobuf').body as Buffer), { defaults: false }) as {
    swagger: string;
    info: { version: string };
    paths: { path: Array<{ name: string; value: { patch: DecodedOperation } }> };
  };
  expect(document.swagger).toBe('2.0');
  expect(document.info.version).toBe('v1.32.0-kube-lite');
  const item = document.paths.path.find((entry) => entry.name === '/api/v1/namespaces/{namespace}/configmaps/{name}');
  const patch = item?.value.patch;
  expect(patch?.operation_id).toBe('patchConfigMap');
  const extension = patch?.vendor_extension.find((entry) => entry.name === 'x-kubernetes-group-version-kind');
  // YAML text; kubectl reads it into a map of strings.
  expect(JSON.parse(extension?.value.yaml ?? 'null')).toEqual({ group: '', kind: 'ConfigMap', version: 'v1' });
  const queryNames = patch?.parameters.map((item) => item.parameter.non_body_parameter.query_parameter_sub_schema?.name);
  expect(queryNames).toContain('fieldValidation');
});

test('documents are built once and hashed; an unknown v3 path has none', () => {
  const openApi = new OpenApi(new Discovery([configMapDescription], ''), 'v1.32.0-kube-lite');
  expect(openApi.v2Document('protobuf')).toBe(openApi.v2Document('protobuf'));
  expect(openApi.v2Document('json').hash).toMatch(/^[0-9A-F]{128}$/);
  expect(openApi.v3Document('api/v1')?.hash).toMatch(/^[0-9A-F]{128}$/);
  expect(openApi.v3Document('apis/nothing.io/v1')).toBeUndefined();
});

// graphql-codegen with the repository's .graphqlrc.json codegen settings (strictScalars and the scalar mappings the
// README gives) over the SDL and the test operations, then tsc --strict over what it generated.
// Prints {"results":[{name,status,reason}]} and exits 0; the xunit test (Http/FrontendClientTests) decides.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const results = [];
const run = (name, body) => {
  try {
    body();
    results.push({ name, status: 'ok' });
  } catch (error) {
    results.push({ name, status: 'failed', reason: `${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}` });
  }
};

const codegen = JSON.parse(readFileSync('../../.graphqlrc.json', 'utf8')).extensions.codegen;
run('graphql-codegen generates types with strictScalars and the README mappings', () => {
  writeFileSync('codegen.generated.json', JSON.stringify({
    overwrite: true,
    schema: '../../schema/*.graphql',
    documents: '../../tests/WorkflowGraph.Tests/Operations/*.graphql',
    config: codegen.config,
    generates: { 'generated/workflowgraph.ts': codegen.generates['generated/workflowgraph.ts'] },
  }));
  execFileSync('node_modules/.bin/graphql-codegen', ['--config', 'codegen.generated.json'], { stdio: 'pipe', timeout: 60_000 });
});
run('the generated types compile under tsc --strict', () => {
  execFileSync('node_modules/.bin/tsc', ['--strict', '--noEmit', '--skipLibCheck', '--target', 'es2022', 'generated/workflowgraph.ts'],
    { stdio: 'pipe', timeout: 60_000 });
});

process.stdout.write(JSON.stringify({ results }) + '\n');
process.exit(0);
